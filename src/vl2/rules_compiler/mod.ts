// Rules compiler public API: compile ZeroTier rules-language source to controller JSON.
export {
  CHARACTERISTIC_BITS,
  compiledToJson,
  compileRules,
  ETHERTYPE_NAMES,
  formatCompiledJson,
  IP_PROTOCOL_NAMES,
} from "./compile.ts";
export type {
  CapabilityJson,
  CompiledRules,
  CompileOptions,
  CompileResult,
  ResolvedInclude,
  RuleJson,
  TagInfoJson,
  TagJson,
} from "./compile.ts";
export type { RulesSourceError } from "./errors.ts";
