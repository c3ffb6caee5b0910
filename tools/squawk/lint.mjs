// Lints the SQL that `coderd-db up` runs (the output of `coderd-db script --from 0`) with squawk.
//
// Each migration is linted as its own file: squawk does not flag changes to a table created
// earlier in the same file, so linting the whole script at once would hide exactly the findings
// that matter (a CHECK without NOT VALID on users, say). Findings are matched against
// allow-list.tsv by (rule, migration); anything else, or an allow-list line nothing uses, fails.
//
// Usage: node tools/squawk/lint.mjs <script.sql>
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const scriptPath = process.argv[2];
if (!scriptPath) {
  console.error("usage: node tools/squawk/lint.mjs <script.sql> (the output of `coderd-db script --from 0`)");
  process.exit(2);
}

// Split on the "-- <version>: <description>" line that starts each migration.
const parts = new Map([["bootstrap", []]]);
let current = "bootstrap";
for (const line of readFileSync(scriptPath, "utf8").split("\n")) {
  const header = /^-- (\d+): /.exec(line);
  if (header) {
    current = header[1];
    parts.set(current, []);
  }
  parts.get(current).push(line);
}
if (parts.size < 2) {
  console.error(`${scriptPath} holds no migration ("-- <version>: ..." lines); is it the output of \`coderd-db script --from 0\`?`);
  process.exit(2);
}

const dir = mkdtempSync(join(tmpdir(), "squawk-"));
const files = [];
for (const [name, lines] of parts) {
  const file = join(dir, `${name}.sql`);
  writeFileSync(file, lines.join("\n"));
  files.push(file);
}

let findings;
try {
  const squawk = join(here, "node_modules", ".bin", "squawk");
  let out;
  try {
    out = execFileSync(squawk, ["--pg-version=15.0", "--reporter=json", ...files], { encoding: "utf8" });
  } catch (e) {
    // squawk exits 1 when it has findings; its JSON is still on stdout.
    if (typeof e.stdout !== "string" || e.stdout.trim() === "") throw e;
    out = e.stdout;
  }
  findings = JSON.parse(out);
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const allowed = readFileSync(join(here, "allow-list.tsv"), "utf8")
  .split("\n")
  .filter((l) => l.trim() !== "" && !l.startsWith("#"))
  .map((l) => {
    const [rule, migration, why] = l.split("\t");
    if (!rule || !migration || !why) {
      console.error(`allow-list.tsv: "${l}" needs rule, migration and why, separated by tabs.`);
      process.exit(2);
    }
    return { rule, migration, why, used: 0 };
  });

let failed = 0;
for (const f of findings) {
  const migration = f.file.replace(/^.*\//, "").replace(/\.sql$/, "");
  const entry = allowed.find((a) => a.rule === f.rule_name && a.migration === migration);
  const where = `${migration}:${f.line + 1}`;
  if (entry) {
    entry.used++;
    console.log(`allowed  ${f.rule_name} at ${where}`);
  } else {
    failed++;
    console.log(`FINDING  ${f.rule_name} at ${where}: ${f.message} ${f.help ?? ""}`);
  }
}
const stale = allowed.filter((a) => a.used === 0);
for (const a of stale) console.log(`STALE    allow-list line "${a.rule} ${a.migration}" matches no finding; remove it.`);

console.log(`squawk: ${parts.size - 1} migrations, ${findings.length} findings, ${findings.length - failed} allowed, ${failed} not allowed, ${stale.length} stale allow-list lines`);
process.exit(failed > 0 || stale.length > 0 ? 1 : 0);
