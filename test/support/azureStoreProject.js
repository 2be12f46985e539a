// Jest setup for the "bot on Azure" project: the bot suites (test/bot) run again with every
// repository and the bot state on Azure Storage (Azurite, started by each file's harness).
process.env.TEST_STORE = 'azure';
