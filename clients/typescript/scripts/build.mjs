// `npm run build`: src/ -> dist/ with tsc, and the generated schema beside
// index.d.ts (tsc does not copy .d.ts inputs), so `import type … from
// "./schema.js"` resolves for the package's users.
import { execFileSync } from "node:child_process";
import { copyFileSync, rmSync } from "node:fs";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
rmSync(`${root}dist`, { recursive: true, force: true });
execFileSync(process.execPath, [`${root}node_modules/typescript/bin/tsc`, "-p", `${root}tsconfig.json`], { stdio: "inherit" });
copyFileSync(`${root}src/schema.d.ts`, `${root}dist/schema.d.ts`);
