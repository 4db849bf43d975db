import assert from 'node:assert/strict';
import { parseSelector, SelectorError } from '../../src/policy/selector';

function syntaxError(text: string): SelectorError {
  try {
    parseSelector(text);
  } catch (err) {
    assert.ok(err instanceof SelectorError, `expected a SelectorError for ${JSON.stringify(text)}`);
    return err;
  }
  assert.fail(`selector ${JSON.stringify(text)} was accepted`);
}

describe('policy selectors', () => {
  describe('match operators', () => {
    const labels = { role: 'frontend', env: 'production', 'k8s.io/zone': 'eu-west-1a' };
    const cases: Array<[string, boolean]> = [
      ['', true],
      ['   ', true],
      ['all()', true],
      ['!all()', false],
      ['has(role)', true],
      ['has( role )', true],
      ['has(tier)', false],
      ['!has(tier)', true],
      ["role == 'frontend'", true],
      ['role == "backend"', false],
      ["role != 'backend'", true],
      ["role != 'frontend'", false],
      ["tier != 'x'", true], // a missing label is "not equal"
      ["tier == 'x'", false],
      ["role in {'frontend', 'business'}", true],
      ["role in {'business'}", false],
      ['role in {}', false],
      ["tier in {'x'}", false],
      ["role not in {'business'}", true],
      ["role notin {'frontend'}", false],
      ["role not   in {'frontend'}", false],
      ["tier not in {'x'}", true], // a missing label is "not in"
      ["env contains 'duct'", true],
      ["tier contains ''", false],
      ["env starts with 'prod'", true],
      ["env starts   with 'dev'", false],
      ["env ends with 'tion'", true],
      ["env ends\twith 'x'", false],
      ["k8s.io/zone == 'eu-west-1a'", true],
      ["role=='frontend'&&env=='production'", true],
    ];
    for (const [text, expected] of cases) {
      it(`${JSON.stringify(text)} ${expected ? 'matches' : 'does not match'}`, () => {
        assert.equal(parseSelector(text).matches(labels), expected);
      });
    }
  });

  describe('precedence', () => {
    const example = "! has(my-label) || my-label starts with 'prod' && role in {'frontend','business'}";

    it('groups the documented example as (!has) || (starts with && in)', () => {
      assert.equal(
        parseSelector(example).toString(),
        '(!has(my-label) || (my-label starts with "prod" && role in {"business", "frontend"}))',
      );
    });

    it('evaluates the documented example with that grouping', () => {
      const s = parseSelector(example);
      assert.equal(s.matches({}), true); // !has(my-label)
      assert.equal(s.matches({ 'my-label': 'production', role: 'business' }), true);
      assert.equal(s.matches({ 'my-label': 'production', role: 'db' }), false);
      assert.equal(s.matches({ 'my-label': 'dev', role: 'frontend' }), false);
      // If && bound looser than ||, {role: 'db'} with no my-label would fail the && and not match.
      assert.equal(s.matches({ role: 'db' }), true);
    });

    it('binds ! tighter than && and && tighter than ||', () => {
      assert.equal(parseSelector("!a == 'x' && b == 'y' || c == 'z'").toString(), '((!a == "x" && b == "y") || c == "z")');
      assert.equal(parseSelector("a == 'x' || b == 'y' && c == 'z'").toString(), '(a == "x" || (b == "y" && c == "z"))');
    });

    it('lets parentheses override', () => {
      const s = parseSelector("(has(a) || has(b)) && has(c)");
      assert.equal(s.matches({ a: '1' }), false);
      assert.equal(s.matches({ a: '1', c: '1' }), true);
      assert.equal(parseSelector('!(has(a) || has(b))').matches({ b: '' }), false);
    });

    it('accepts a label named like a keyword', () => {
      assert.equal(parseSelector("in == 'x' && has == 'y' && all == 'z'").matches({ in: 'x', has: 'y', all: 'z' }), true);
    });
  });

  describe('strings', () => {
    it('takes either quote and no escapes', () => {
      assert.equal(parseSelector(`a == "it's"`).matches({ a: "it's" }), true);
      assert.equal(parseSelector(`a == 'say "hi"'`).matches({ a: 'say "hi"' }), true);
      assert.equal(parseSelector(`a == 'back\\'`).matches({ a: 'back\\' }), true);
    });

    it('prints a value containing a double quote in single quotes so the text parses back', () => {
      const text = parseSelector(`a == 'say "hi"'`).toString();
      assert.equal(parseSelector(text).toString(), text);
    });
  });

  describe('errors', () => {
    const bad: Array<[string, number, RegExp]> = [
      ["a == ", 5, /expected a quoted string/],
      ["a == 'x", 5, /unterminated string/],
      ['a', 1, /expected an operator/],
      ["a = 'x'", 2, /expected an operator/],
      ["a == 'x' &&", 11, /unexpected end/],
      ["(a == 'x'", 9, /"\)" to close/],
      ["a == 'x')", 8, /unexpected "\)"/],
      ["a in {'x' 'y'}", 10, /"," or "}"/],
      ["a in 'x'", 5, /"\{"/],
      ['has()', 4, /expected a label/],
      ['has(a', 5, /"\)" after the label/],
      ["a starts'x'", 2, /expected an operator/],
      ["a ~= 'x'", 2, /expected an operator/],
      ["a == 'x' & b == 'y'", 9, /unexpected "&/],
      ["a\n== 'x'", 1, /expected an operator/], // whitespace is space or tab only
    ];
    for (const [text, offset, message] of bad) {
      it(`refuses ${JSON.stringify(text)} at offset ${offset}`, () => {
        const err = syntaxError(text);
        assert.equal(err.code, 'SELECTOR_SYNTAX');
        assert.equal(err.offset, offset);
        assert.match(err.message, message);
      });
    }

    it('refuses a label longer than 512 characters', () => {
      assert.ok(parseSelector(`has(${'a'.repeat(512)})`));
      assert.match(syntaxError(`has(${'a'.repeat(513)})`).message, /longer than 512/);
    });

    it('refuses global() with its own code unless asked to allow it', () => {
      const err = syntaxError("has(a) && global()");
      assert.equal(err.code, 'SELECTOR_GLOBAL');
      assert.equal(err.offset, 10);
      assert.match(err.message, /only in a namespaceSelector/);
      assert.equal(parseSelector('global()', { allowGlobal: true }).matches({}), true);
    });
  });

  it('prints text that parses back to the same selector', () => {
    for (const text of [
      "a == 'x'",
      "a not in {'y', 'x', 'x'}",
      "!(a contains 'q' || b ends with 'r') && has(c)",
      "a starts with 's' || all()",
    ]) {
      const once = parseSelector(text).toString();
      assert.equal(parseSelector(once).toString(), once);
    }
  });
});
