// The compiler's public surface (CONTRACTS.md "src/compiler").
export { compile, BASE_CHAIN, FAILSAFE_CHAIN } from './compile';
export { CompileOptions, DEFAULT_COMPILE_OPTIONS, CALICO_FAILSAFE_INBOUND, parseFailsafes, Failsafe } from './options';
export { CompileError, CompileErrorCode } from './errors';
export { policyRuleComment } from './rules';
