export { FsStore, type FsStoreOptions, type RawStreamSource, type UnreadableSession } from "./fs-store.js";
export { fromUrl, summaryCachePath } from "./from-url.js";
export { AgentHomeStore, type AgentHomeKind } from "./agent-home-store.js";
export { agentHomeKind, storeHomeKind } from "./from-url.js";
export { localAgentHomes, type AgentHome, type AgentHomeEnv } from "./local-agent-homes.js";
