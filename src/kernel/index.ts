// The kernel client: consistent dumps, atomic batches, monitor and trace over nf_tables netlink.
export * from './errors';
export * from './transaction';
export * from './client';
export * from './monitor';
export * from './trace';
