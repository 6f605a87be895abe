import { Marked } from "marked";
import sanitizeHtml from "sanitize-html";
import { SafeHtml } from "./html.js";

// One parser for the server; GitHub-flavoured, line breaks as the agent wrote them.
const parser = new Marked({ gfm: true, breaks: true, async: false });

/**
 * An agent's Markdown as HTML that is safe to show: marked renders it and
 * sanitize-html keeps formatting tags only (no raw HTML that runs, no event
 * attributes, no javascript: or data: links; links open as plain http(s) or
 * mailto, with no referrer). Session content is untrusted input.
 */
export function renderMarkdown(text: string): SafeHtml {
  const raw = parser.parse(text) as string;
  return new SafeHtml(
    sanitizeHtml(raw, {
      allowedTags: [
        "p",
        "br",
        "hr",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "strong",
        "em",
        "del",
        "code",
        "pre",
        "blockquote",
        "ul",
        "ol",
        "li",
        "a",
        "table",
        "thead",
        "tbody",
        "tr",
        "th",
        "td",
        "input",
      ],
      allowedAttributes: {
        a: ["href", "title", "rel", "target"],
        code: ["class"],
        input: ["type", "checked", "disabled"],
        th: ["align"],
        td: ["align"],
        ol: ["start"],
      },
      allowedSchemes: ["http", "https", "mailto"],
      allowedSchemesAppliedToAttributes: ["href"],
      allowProtocolRelative: false,
      disallowedTagsMode: "escape",
      transformTags: {
        a: sanitizeHtml.simpleTransform("a", { rel: "noopener noreferrer nofollow", target: "_blank" }),
        input: (_tag, attribs) => ({
          tagName: "input",
          attribs: { type: "checkbox", disabled: "", ...(attribs.checked !== undefined ? { checked: "" } : {}) },
        }),
      },
      allowedClasses: { code: [/^language-[\w-]+$/] },
    }),
  );
}
