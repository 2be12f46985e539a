'use strict';
// See package.json: restify 11 loads spdy at start-up and calls it only for a server created
// with its `spdy` option, which this bot never passes. Anything that does gets a clear error.
function unsupported() {
  throw new Error('SPDY is not available in this build: restify\'s `spdy` server option is not supported (use HTTP/1.1 or HTTP/2)');
}
module.exports = { createServer: unsupported, Agent: unsupported, createAgent: unsupported };
