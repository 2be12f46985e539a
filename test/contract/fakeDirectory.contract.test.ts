import { describeDirectoryContract } from './directoryContract';
import { demoDirectory } from '../support/directory';

describeDirectoryContract('FakeDirectory', async () => {
  const fake = demoDirectory();
  return { directory: fake, fake, close: async () => {} };
});
