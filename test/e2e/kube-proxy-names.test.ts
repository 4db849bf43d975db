// The lab names its chains the way kube-proxy does. Expected values are names that appear in
// kubernetes' own proxier tests (pkg/proxy/nftables/proxier_test.go, pkg/proxy/iptables/proxier_test.go),
// so a mismatch means the lab no longer looks like a real node to code that recognises kube-proxy.
import assert from 'node:assert/strict';
import {
  base32,
  iptablesEndpointHash,
  iptablesServiceHash,
  nftEndpointChainBase,
  nftServiceChainBase,
  type ServicePortRef,
} from '../../scripts/lab/kube-proxy-names';

const ref = (namespace: string, name: string): ServicePortRef => ({ namespace, name, portName: 'p80', protocol: 'tcp' });

describe('lab: kube-proxy chain names', () => {
  it('base32 follows RFC 4648 (test vectors of section 10, padding cut)', () => {
    const vectors: Array<[string, string]> = [
      ['', ''],
      ['f', 'MY'],
      ['fo', 'MZXQ'],
      ['foo', 'MZXW6'],
      ['foob', 'MZXW6YQ'],
      ['fooba', 'MZXW6YTB'],
      ['foobar', 'MZXW6YTBOI'],
    ];
    for (const [input, expected] of vectors) assert.equal(base32(Buffer.from(input)), expected, input);
  });

  it('nftables mode: service and endpoint chains as in TestOverallNFTablesRules', () => {
    assert.equal(nftServiceChainBase(ref('ns1', 'svc1')), 'ULMVA6XW-ns1/svc1/tcp/p80');
    assert.equal(nftServiceChainBase(ref('ns2', 'svc2')), '42NFTM6N-ns2/svc2/tcp/p80');
    assert.equal(nftServiceChainBase(ref('ns5', 'svc5')), 'HVFWP5L3-ns5/svc5/tcp/p80');
    assert.equal(nftEndpointChainBase(ref('ns1', 'svc1'), '10.180.0.1', 80), '5OJB2KTY-ns1/svc1/tcp/p80__10.180.0.1/80');
    assert.equal(nftEndpointChainBase(ref('ns4', 'svc4'), '10.180.0.5', 80), '5RFCDDV7-ns4/svc4/tcp/p80__10.180.0.5/80');
  });

  it('nftables mode: IPv6 endpoint chains replace colons with dots', () => {
    assert.equal(nftEndpointChainBase(ref('ns1', 'svc1'), 'fd00:10:180::1', 80), 'ZVRFLKHO-ns1/svc1/tcp/p80__fd00.10.180..1/80');
    assert.equal(nftEndpointChainBase(ref('ns1', 'svc1'), 'fd00:10:180::2:1', 80), '2CRNCTTE-ns1/svc1/tcp/p80__fd00.10.180..2.1/80');
  });

  it('iptables mode: KUBE-SVC/KUBE-SEP hashes as in TestOverallIPTablesRules', () => {
    assert.equal(iptablesServiceHash(ref('ns1', 'svc1')), 'XPGD46QRK7WJZT7O');
    assert.equal(iptablesServiceHash(ref('ns2', 'svc2')), 'GNZBNJ2PO5MGZ6GT');
    assert.equal(iptablesEndpointHash(ref('ns1', 'svc1'), '10.180.0.1', 80), 'SXIVWICOYRO3J4NJ');
    assert.equal(iptablesEndpointHash(ref('ns5', 'svc5'), '10.180.0.3', 80), 'I77PXRDZVX7PMWMN');
  });
});
