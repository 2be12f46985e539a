import { describeDirectoryContract } from './directoryContract';
import { describeLifecycleContract } from './directoryLifecycleContract';
import { demoDirectory } from '../support/directory';

async function makeFake() {
  const fake = demoDirectory();
  return { directory: fake, fake, close: async () => {} };
}

describeDirectoryContract('FakeDirectory', makeFake);
describeLifecycleContract('FakeDirectory', makeFake);
