// The README's example blocks are the example files, word for word (the files
// are the ones `npm test` typechecks and runs), so the code shown is the code
// checked. A block names its file on its first line: `// PATH: …`.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";

const read = (p) => readFileSync(new URL(`../${p}`, import.meta.url), "utf8");
const file = (named) => (named.startsWith("examples/") ? named : `examples/next/${named}`);

test("README's example blocks are the example files", () => {
  const blocks = [...read("README.md").matchAll(/```tsx?\n(\/\/ ((?:examples|app)\/\S+?):[\s\S]*?)```/g)];
  assert.deepEqual(
    blocks.map((m) => m[2]),
    ["examples/usage.ts", "app/admin/backup/page.tsx", "app/admin/backup/BackupSettings.tsx"],
  );
  for (const [, text, named] of blocks) assert.equal(text, read(file(named)), `README's block of ${named}`);
});
