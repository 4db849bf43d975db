// The nf_tables codec: objects (tables, chains, rules, sets, elements, generation), their framing
// and the interval encoding. Expressions live in ./expr.
export * from './constants';
export * from './message';
export * from './userdata';
export * from './table';
export * from './chain';
export * from './rule';
export * from './set';
export * from './setelem';
export * from './intervals';
export * from './gen';
