// What rule selectors select: Calico builds IP sets from every endpoint and network set whose
// labels match, cluster-wide. For HostEndpoints only expectedIPs count ("If the expectedIPs field is
// omitted then security rules that use labels will fail to match this endpoint", hostendpoint.mdx);
// GlobalNetworkSets contribute their nets. Named ports resolve to (IP, protocol, port) of the
// HostEndpoints that declare that name, as Felix's named-port IP sets do.
import { GlobalNetworkSet, HostEndpoint } from '../policy/model';
import { Cidr, parseCidr } from '../policy/nets';
import { parseSelector, Selector } from '../policy/selector';
import { PrefixBag, SplitAddresses } from './addresses';
import { CompileError } from './errors';
import { IpFamily } from './exprs';
import { packedV4 } from './fastv4';
import { byString } from './names';

export interface Located {
  object: string;
  field: string;
}

/** One named-port member: address bytes, IP protocol number, port. */
export interface NamedPortMember {
  family: IpFamily;
  addr: Buffer;
  proto: number;
  port: number;
}

const ENDPOINT_PORT_PROTO: Record<string, number> = { TCP: 6, UDP: 17, SCTP: 132 };

export class Resolver {
  private readonly netsByGns = new Map<string, PrefixBag>();
  private readonly membersBySelector = new Map<string, SplitAddresses>();
  private readonly selectors = new Map<string, Selector>();
  private readonly heps: readonly HostEndpoint[];
  private readonly gnss: readonly GlobalNetworkSet[];

  constructor(heps: readonly HostEndpoint[], gnss: readonly GlobalNetworkSet[]) {
    this.heps = [...heps].sort((a, b) => byString(a.metadata.name, b.metadata.name));
    this.gnss = [...gnss].sort((a, b) => byString(a.metadata.name, b.metadata.name));
  }

  /** Parses a selector once; an empty one is all(). */
  selector(text: string | undefined, at: Located): Selector {
    const key = text ?? '';
    let sel = this.selectors.get(key);
    if (!sel) {
      try {
        sel = parseSelector(key);
      } catch (err) {
        throw new CompileError('BAD_SELECTOR', at.object, at.field, key, (err as Error).message);
      }
      this.selectors.set(key, sel);
    }
    return sel;
  }

  /** The addresses of everything the selector matches: merged prefixes, and single addresses apart. */
  members(selector: Selector): SplitAddresses {
    const key = selector.toString();
    let ranges = this.membersBySelector.get(key);
    if (!ranges) {
      const bag = new PrefixBag();
      for (const hep of this.heps) {
        if (!selector.matches(hep.metadata.labels ?? {})) continue;
        for (const [i, ip] of (hep.spec.expectedIPs ?? []).entries()) {
          bag.add(cidrAt(ip, { object: `HostEndpoint/${hep.metadata.name}`, field: `spec.expectedIPs[${i}]` }));
        }
      }
      for (const gns of this.gnss) {
        if (selector.matches(gns.metadata.labels ?? {})) bag.addAll(this.gnsNets(gns));
      }
      ranges = bag.split();
      this.membersBySelector.set(key, ranges);
    }
    return ranges;
  }

  /** (address, protocol, port) of every HostEndpoint the selector matches that declares the port name. */
  namedPort(selector: Selector, proto: number, name: string): NamedPortMember[] {
    const out: NamedPortMember[] = [];
    for (const hep of this.heps) {
      if (!selector.matches(hep.metadata.labels ?? {})) continue;
      const port = (hep.spec.ports ?? []).find((p) => p.name === name && ENDPOINT_PORT_PROTO[p.protocol] === proto);
      if (!port) continue;
      for (const [i, ip] of (hep.spec.expectedIPs ?? []).entries()) {
        const c = cidrAt(ip, { object: `HostEndpoint/${hep.metadata.name}`, field: `spec.expectedIPs[${i}]` });
        out.push({ family: c.family, addr: c.addr, proto, port: port.port });
      }
    }
    return out;
  }

  private gnsNets(gns: GlobalNetworkSet): PrefixBag {
    let bag = this.netsByGns.get(gns.metadata.name);
    if (!bag) {
      bag = new PrefixBag();
      const nets = gns.spec.nets ?? [];
      for (let i = 0; i < nets.length; i++) {
        const packed = packedV4(nets[i]);
        if (packed >= 0) bag.addPacked(packed);
        else bag.add(cidrAt(nets[i], { object: `GlobalNetworkSet/${gns.metadata.name}`, field: `spec.nets[${i}]` }));
      }
      this.netsByGns.set(gns.metadata.name, bag);
    }
    return bag;
  }
}

export function cidrAt(text: string, at: Located): Cidr {
  try {
    return parseCidr(text);
  } catch (err) {
    throw new CompileError('BAD_CIDR', at.object, at.field, text, (err as Error).message);
  }
}
