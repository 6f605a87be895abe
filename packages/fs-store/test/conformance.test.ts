import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runStoreConformance, runTokenConformance } from "@sessionvault/core/conformance";
import { FsStore } from "@sessionvault/fs-store";

const dirs: string[] = [];

runStoreConformance("fs-store", {
  async open() {
    const root = await mkdtemp(join(tmpdir(), "sv-fs-conf-"));
    dirs.push(root);
    return new FsStore({ root });
  },
  async cleanup() {
    await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
  },
});

runStoreConformance("fs-store (org)", {
  async open() {
    const root = await mkdtemp(join(tmpdir(), "sv-fs-conf-org-"));
    dirs.push(root);
    return new FsStore({ root, org: "acme" });
  },
  async cleanup() {
    await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
  },
});

runTokenConformance("fs-store", {
  async openOrgs(orgs) {
    const root = await mkdtemp(join(tmpdir(), "sv-fs-conf-tok-"));
    dirs.push(root);
    return orgs.map((org) => new FsStore({ root, org }));
  },
  async cleanup() {
    await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
  },
});
