'use strict';
// The flooder child's entry point: `node flooder-entry.js '<json args>'` (see flooder.ts).
require('../helpers/ts-register');
require('./flooder.ts');
