// Re-exports every VL1 verb payload codec (one module per verb family).
export * from "./ok.ts";
export * from "./hello.ts";
export * from "./error.ts";
export * from "./whois.ts";
export * from "./rendezvous.ts";
export * from "./frame.ts";
export * from "./echo.ts";
export * from "./multicast.ts";
export * from "./credentials.ts";
export * from "./network_config.ts";
export * from "./push_direct_paths.ts";
export * from "./user_message.ts";
export * from "./remote_trace.ts";
