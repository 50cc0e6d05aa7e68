#!/usr/bin/env node
// Thin entry: the old command names (xs-refresh-xobuilds, ...) are links to this file.
import { main } from '../dist/cli.js'
import { hideKnownWarnings } from '../dist/known-warnings.js'

hideKnownWarnings()
process.exitCode = await main(process.argv.slice(1))
