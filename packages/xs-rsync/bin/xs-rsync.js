#!/usr/bin/env node
// Thin entry: the old command names (xs-refresh-xobuilds, ...) are links to this file.
import { main } from '../dist/cli.js'
import { ignoreClosedOutput } from '../dist/closed-output.js'
import { hideKnownWarnings } from '../dist/known-warnings.js'

hideKnownWarnings()
ignoreClosedOutput()
process.exitCode = await main(process.argv.slice(1))
