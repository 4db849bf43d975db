// The named sets of one compiled table. Names derive from meaning, so the same input always gives
// the same names: selector sets from the selector text (their members may change without renaming,
// so a GlobalNetworkSet update is an element delta), net and port lists from their content.
import { Family, NftSet, SetElement, SetFlags } from '../nftables/model';
import { IpFamily } from './exprs';
import { byString, cutBytes, hash8 } from './names';

/** nft datatype ids (nft include/datatype.h). */
const TYPE = { ipv4_addr: 7, ipv6_addr: 8, inet_proto: 12, inet_service: 13 } as const;
/** Concatenated key types: 6 bits per field, first field most significant (nft TYPE_BITS). */
const TYPE_BITS = 6;

/** nft caps comments at 128 bytes including the NUL (NFTNL_UDATA_COMMENT_MAXLEN). */
export const MAX_COMMENT = 127;

export class SetRegistry {
  private readonly sets = new Map<string, NftSet>();

  constructor(
    private readonly family: Family,
    private readonly table: string,
  ) {}

  /** An IPv4 or IPv6 interval set; `prefix` says what kind ("sel", "net"), `identity` what it holds. */
  addresses(prefix: string, family: IpFamily, identity: string, comment: string, elements: () => SetElement[]): string {
    const name = `${prefix}${family}-${hash8(identity)}`;
    return this.define(name, () => ({
      flags: SetFlags.interval,
      keyType: family === 4 ? TYPE.ipv4_addr : TYPE.ipv6_addr,
      keyLen: family === 4 ? 4 : 16,
      comment,
      elements: elements(),
    }));
  }

  /** An IPv4 or IPv6 hash set of single addresses. */
  hosts(prefix: string, family: IpFamily, identity: string, comment: string, elements: () => SetElement[]): string {
    return this.define(`${prefix}${family}-${hash8(identity)}`, () => ({
      flags: 0,
      keyType: family === 4 ? TYPE.ipv4_addr : TYPE.ipv6_addr,
      keyLen: family === 4 ? 4 : 16,
      comment,
      elements: elements(),
    }));
  }

  /** An inet_service interval set. */
  ports(identity: string, comment: string, elements: () => SetElement[]): string {
    return this.define(`port-${hash8(identity)}`, () => ({
      flags: SetFlags.interval,
      keyType: TYPE.inet_service,
      keyLen: 2,
      comment,
      elements: elements(),
    }));
  }

  /** An `ipvX_addr . inet_proto . inet_service` hash set (Calico's named-port IP sets). */
  addrProtoPort(family: IpFamily, identity: string, comment: string, elements: () => SetElement[]): string {
    const addrType = family === 4 ? TYPE.ipv4_addr : TYPE.ipv6_addr;
    return this.define(`np${family}-${hash8(identity)}`, () => ({
      flags: 0,
      keyType: (((addrType << TYPE_BITS) | TYPE.inet_proto) << TYPE_BITS) | TYPE.inet_service,
      keyLen: (family === 4 ? 4 : 16) + 4 + 4,
      comment,
      elements: elements(),
    }));
  }

  /** All sets, sorted by name. */
  list(): NftSet[] {
    return [...this.sets.values()].sort((a, b) => byString(a.name, b.name));
  }

  private define(name: string, make: () => Omit<NftSet, 'family' | 'table' | 'name' | 'keyByteOrder'>): string {
    if (!this.sets.has(name)) {
      const body = make();
      this.sets.set(name, {
        family: this.family,
        table: this.table,
        name,
        ...body,
        keyByteOrder: 'big',
        // nft's parser has no escape for '"' inside a comment: keep comments printable and re-loadable.
        comment: cutBytes((body.comment ?? '').replace(/"/g, "'"), MAX_COMMENT),
      });
    }
    return name;
  }
}
