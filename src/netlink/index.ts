// The netlink framing layer: generic netlink sockets, messages and attributes. It knows nothing of
// nf_tables; src/nftables builds on it.
export * from './attributes';
export * from './constants';
export * from './errno';
export * from './message';
export { NetlinkSocket, NetlinkSocketError, NetlinkSocketOptions } from './socket';
