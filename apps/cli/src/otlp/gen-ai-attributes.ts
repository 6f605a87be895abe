/**
 * OpenTelemetry attribute names this export writes. The GenAI ones are still
 * "incubating", and @opentelemetry/semantic-conventions asks users to copy
 * incubating names rather than import them (they may change in a minor
 * release); these are copied from its 1.45.0 release, the semantic
 * conventions version we follow (docs/otel.md).
 */
export const SEMCONV_SCHEMA_URL = "https://opentelemetry.io/schemas/1.45.0";

export const ATTR_SERVICE_NAME = "service.name";
export const ATTR_GEN_AI_OPERATION_NAME = "gen_ai.operation.name";
export const ATTR_GEN_AI_AGENT_NAME = "gen_ai.agent.name";
export const ATTR_GEN_AI_CONVERSATION_ID = "gen_ai.conversation.id";
export const ATTR_GEN_AI_REQUEST_MODEL = "gen_ai.request.model";
export const ATTR_GEN_AI_RESPONSE_MODEL = "gen_ai.response.model";
export const ATTR_GEN_AI_USAGE_INPUT_TOKENS = "gen_ai.usage.input_tokens";
export const ATTR_GEN_AI_USAGE_OUTPUT_TOKENS = "gen_ai.usage.output_tokens";
export const ATTR_GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS = "gen_ai.usage.cache_read.input_tokens";
export const ATTR_GEN_AI_USAGE_REASONING_OUTPUT_TOKENS = "gen_ai.usage.reasoning.output_tokens";
export const ATTR_GEN_AI_TOOL_NAME = "gen_ai.tool.name";
export const ATTR_GEN_AI_TOOL_CALL_ID = "gen_ai.tool.call.id";
export const ATTR_GEN_AI_TOOL_CALL_ARGUMENTS = "gen_ai.tool.call.arguments";
export const ATTR_GEN_AI_TOOL_CALL_RESULT = "gen_ai.tool.call.result";
export const ATTR_GEN_AI_INPUT_MESSAGES = "gen_ai.input.messages";
export const ATTR_GEN_AI_OUTPUT_MESSAGES = "gen_ai.output.messages";
export const ATTR_ERROR_TYPE = "error.type";
export const ATTR_PROCESS_COMMAND_LINE = "process.command_line";
export const ATTR_PROCESS_COMMAND_ARGS = "process.command_args";
export const ATTR_PROCESS_EXIT_CODE = "process.exit.code";
export const ATTR_PROCESS_WORKING_DIRECTORY = "process.working_directory";

export const GEN_AI_OPERATION_INVOKE_AGENT = "invoke_agent";
export const GEN_AI_OPERATION_EXECUTE_TOOL = "execute_tool";
