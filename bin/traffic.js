#!/usr/bin/env node
import "../dist/src/cli/traffic.js";
