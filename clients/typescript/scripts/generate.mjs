// `npm run generate`: writes src/schema.d.ts with openapi-typescript from a
// running server's /api/openapi.json: $SAUVE_URL if set, otherwise a
// `sauve serve` of its own ($SAUVE_BIN, see server.mjs), stopped afterwards.
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Sauve } from "./server.mjs";

const root = fileURLToPath(new URL("..", import.meta.url));
export const SCHEMA = fileURLToPath(new URL("../src/schema.d.ts", import.meta.url));

/** What openapi-typescript's CLI generates from `${base}/api/openapi.json`, as a string. */
export function generate(base) {
  return execFileSync(process.execPath, [`${root}node_modules/openapi-typescript/bin/cli.js`, `${base}/api/openapi.json`], {
    cwd: root,
    encoding: "utf8",
    maxBuffer: 64 << 20,
    stdio: ["ignore", "pipe", "inherit"],
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  let sauve;
  let base = process.env.SAUVE_URL?.replace(/\/+$/, "");
  if (!base) {
    sauve = new Sauve();
    base = await sauve.start();
  }
  try {
    writeFileSync(SCHEMA, generate(base));
    console.error(`wrote ${SCHEMA} from ${base}/api/openapi.json`);
  } finally {
    await sauve?.stop();
  }
}
