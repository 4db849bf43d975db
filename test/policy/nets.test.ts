import assert from 'node:assert/strict';
import { canonicalCidr, cidrRange, formatCidr, NetError, parseCidr, parseIpAddress } from '../../src/policy/nets';

function refused(text: string): NetError {
  try {
    parseCidr(text);
  } catch (err) {
    assert.ok(err instanceof NetError);
    assert.equal(err.code, 'BAD_CIDR');
    return err;
  }
  assert.fail(`${JSON.stringify(text)} was accepted`);
}

describe('policy nets', () => {
  describe('accepted forms', () => {
    const cases: Array<[string, string, 4 | 6]> = [
      ['10.0.0.0/8', '10.0.0.0/8', 4],
      ['0.0.0.0/0', '0.0.0.0/0', 4],
      ['192.168.1.7', '192.168.1.7/32', 4],
      ['255.255.255.255/32', '255.255.255.255/32', 4],
      ['10.1.2.3/8', '10.0.0.0/8', 4], // host bits masked, as Calico does
      ['172.16.255.1/12', '172.16.0.0/12', 4],
      ['10.0.0.129/25', '10.0.0.128/25', 4],
      ['::/0', '::/0', 6],
      ['::', '::/128', 6],
      ['::1', '::1/128', 6],
      ['2001:DB8::/32', '2001:db8::/32', 6],
      ['2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8::1/128', 6],
      ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1/128', 6], // first of two equal zero runs
      ['2001:db8::1:2:3:4:5', '2001:db8:0:1:2:3:4:5/128', 6], // a single zero group is not "::"
      ['fe80::1:2/64', 'fe80::/64', 6],
      ['2001:db8::ffff/120', '2001:db8::ff00/120', 6],
      ['::ffff:192.0.2.1', '::ffff:c000:201/128', 6],
      ['1:2:3:4:5:6:1.2.3.4', '1:2:3:4:5:6:102:304/128', 6],
      ['1::', '1::/128', 6],
    ];
    for (const [input, canonical, family] of cases) {
      it(`${input} -> ${canonical}`, () => {
        const c = parseCidr(input);
        assert.equal(c.family, family);
        assert.equal(c.addr.length, family === 4 ? 4 : 16);
        assert.equal(formatCidr(c), canonical);
        assert.deepEqual(canonicalCidr(input), { family, text: canonical });
        assert.equal(formatCidr(parseCidr(canonical)), canonical);
      });
    }
  });

  describe('refused forms', () => {
    const cases: Array<[string, RegExp]> = [
      ['010.0.0.1', /leading zero/],
      ['10.0.0.01/32', /leading zero/],
      ['10.1', /4 octets/],
      ['1.2.3', /4 octets/],
      ['1.2.3.4.5', /unexpected/],
      ['256.0.0.0', /above 255/],
      ['1.2.3.1000', /above 255/],
      ['0x0a.0.0.1', /unexpected|octet/],
      ['10.0.0.0/33', /above 32/],
      ['10.0.0.0/', /prefix length/],
      ['10.0.0.0/08', /prefix length/],
      ['10.0.0.0/+8', /prefix length/],
      ['10.0.0.0/8/8', /prefix length/],
      [' 10.0.0.0/8', /octet/],
      ['', /empty/],
      ['/8', /empty/],
      ['::/129', /above 128/],
      [':::', /hex group/],
      ['1:::2', /hex group/],
      ['1::2::3', /only once/],
      [':1::', /single ":"/],
      ['1::2:', /single ":"/],
      ['1:2:3:4:5:6:7', /8 groups/],
      ['1:2:3:4:5:6:7:8:9', /at most 8|8 groups/],
      ['1:2:3:4::5:6:7:8', /at least one group/],
      ['12345::', /more than 4/],
      ['fe80::1%eth0', /unexpected "%"/],
      ['::ffff:01.2.3.4', /leading zero/],
      ['::1.2.3.4:5', /unexpected/],
      ['g::1', /hex group/],
    ];
    for (const [input, reason] of cases) {
      it(`refuses ${JSON.stringify(input)}`, () => {
        const err = refused(input);
        assert.match(err.message, reason);
        assert.ok(err.message.includes(JSON.stringify(input)), err.message);
        assert.throws(() => canonicalCidr(input), NetError);
      });
    }
  });

  it('parses bare addresses and refuses a prefix where an address is expected', () => {
    assert.deepEqual([...parseIpAddress('192.0.2.10').addr], [192, 0, 2, 10]);
    assert.equal(parseIpAddress('2001:db8::5').family, 6);
    assert.throws(() => parseIpAddress('192.0.2.0/24'), /without a prefix length/);
    assert.throws(() => parseIpAddress('010.1.1.1'), /leading zero/);
  });

  it('gives the first and last address of a CIDR', () => {
    const [lo, hi] = cidrRange(parseCidr('10.1.2.3/22'));
    assert.deepEqual([...lo], [10, 1, 0, 0]);
    assert.deepEqual([...hi], [10, 1, 3, 255]);
    const [lo6, hi6] = cidrRange(parseCidr('2001:db8::/33'));
    assert.equal(lo6.toString('hex'), '20010db8000000000000000000000000');
    assert.equal(hi6.toString('hex'), '20010db87fffffffffffffffffffffff');
  });
});
