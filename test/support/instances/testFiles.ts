/** The host name the instances serve attached test files under (see instanceBot.ts); never resolved. */
export const TEST_FILES_HOST = 'files.instances.test';
