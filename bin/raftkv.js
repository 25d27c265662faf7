#!/usr/bin/env node
// Built by `npm run build` (tsc) into dist/.
import "../dist/src/cli/main.js";
