// No control character from task data reaches a terminal: names, info,
// messages, stacktraces, feedback and errors are escaped in every human
// output, a row never breaks, --json stays exact (issue 12, 4).
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { visible, visibleLines } from '../src/cli/escape.js';
import { requireBuild, sandbox } from './helpers.js';

before(requireBuild);

const EVIL = 'evil\x1b]0;PWNED\x07\x1b[2J\x1b]52;c;cm0gLXJmIH4K\x07\u009b31m\nnext\u202eline';

test('visible: escapes C0, DEL, C1, line separators and bidi overrides; leaves other text', () => {
  assert.equal(visible('plain ümlaut 名前 🙂'), 'plain ümlaut 名前 🙂');
  assert.equal(visible('a\x1b[2Jb'), 'a\\e[2Jb');
  assert.equal(visible('bell\x07 tab\t nl\n cr\r nul\x00 del\x7f csi\u009b'), 'bell\\a tab\\t nl\\n cr\\r nul\\x00 del\\x7f csi\\x9b');
  assert.equal(visible('\u2028\u202e\u2066'), '\\u2028\\u202e\\u2066');
  assert.deepEqual(visibleLines('one\r\ntwo\x1b'), ['one', 'two\\e']);
});

describe('every human output of a task full of escape sequences', () => {
  test('holds no ESC, BEL or C1 byte, and no line of a table or summary breaks', async (t) => {
    const s = sandbox(t);
    const feedback = `${s.dir}/fb.txt`;
    const child = `printf '[note]%s\\n' "$1" > "$TW_FEEDBACK"; tw_msg="$1"; echo out`;
    const r = await s.run(['launch', '--name', EVIL, '--info', `k=${EVIL}`, `--feedback=${feedback}`, '--', 'sh', '-c', child, 'sh', 'x\x1b[31mred\x07']);
    assert.equal(r.code, 0, r.stderr);
    await s.ok(['message', '1', '--type', 'error', '--stacktrace', `at ${EVIL}\nsecond`, `msg ${EVIL}\nmore`]);
    await s.ok(['message', '1', '--type', 'result', EVIL]);
    const outputs: [string, string][] = [];
    for (const args of [['list', '--all'], ['describe', '1'], ['describe', '--show-all', '1'], ['history'], ['stats'], ['feedback', '1'], ['describe', '--block', '1']]) {
      const out = await s.run(args);
      assert.equal(out.code, 0, `${args.join(' ')}: ${out.stderr}`);
      outputs.push([args.join(' '), out.stdout + out.stderr]);
    }
    const cancel = await s.run(['cancel', '--name', EVIL]);
    outputs.push(['cancel --name', cancel.stdout + cancel.stderr]);
    for (const [what, text] of outputs) {
      assert.doesNotMatch(text, /[\x1b\x07\u0080-\u009f]/, `${what} let a control code through: ${JSON.stringify(text)}`);
      if (what.startsWith('feedback')) assert.match(text, /x\\e\[31mred\\a/, 'the feedback value escaped');
      else assert.match(text, /evil\\e\]0;PWNED\\a/, `${what} shows the name escaped`);
    }
    const list = outputs[0]![1].trimEnd().split('\n');
    assert.equal(list.length, 2, 'one header and one row');
    assert.equal(outputs[1]![1].trimEnd().split('\n').length, 1, 'one summary line');
    const story = outputs[2]![1].trimEnd().split('\n');
    assert.ok(story.includes('      more'), 'a message\'s later lines are indented under it');
    assert.ok(story.includes('      second'), 'so are a stacktrace\'s');
    for (const line of story.slice(1)) assert.match(line, /^ {2}/, `a story line not indented: ${JSON.stringify(line)}`);
    // --json is exact.
    const [json] = await s.json(['describe', '1']);
    assert.equal(json?.name, EVIL);
  });
});

test('cellWidth: CJK and emoji take two cells, combining marks none; tables align by cells', async (t) => {
  const { cellWidth, cutCells } = await import('../src/cli/width.js');
  assert.equal(cellWidth('backup'), 6);
  assert.equal(cellWidth('名前'), 4);
  assert.equal(cellWidth('ｆｕｌｌ'), 8);
  assert.equal(cellWidth('🙂x'), 3);
  assert.equal(cellWidth('e\u0301'), 1);
  assert.equal(cutCells('名前です', 5), '名前');
  const s = sandbox(t);
  for (const name of ['バックアップ', 'plain', '🙂🙂']) assert.equal((await s.run(['launch', '--name', name, '--', 'true'])).code, 0);
  const [head, ...rows] = (await s.ok(['history'])).trimEnd().split('\n');
  const column = (line: string, word: string): number => cellWidth(line.slice(0, line.indexOf(word)));
  for (const row of rows) assert.equal(column(row, 'succeeded'), column(head!, 'STATE'), `misaligned: ${row}`);
});
