// Public API of @sessionvault/server.
export { parseUiSecret, startServer, type StartServerOptions, type RunningServer } from "./start-server.js";
export { tokenStoreOf } from "@sessionvault/core";
export { buildApp, type AppOptions } from "./build-app.js";
export { serverStoreRegistry } from "./server-stores.js";
export { createApiToken, hashToken, parseScopes, TOKEN_SCOPES, type CreatedToken } from "./tokens.js";
export { HTTP_STATUS } from "./http-status.js";
export { quickstartToken, QUICKSTART_ORG } from "./quickstart.js";
export { startHomeImport, type HomeImport, type HomeImportOptions } from "./home-import.js";
