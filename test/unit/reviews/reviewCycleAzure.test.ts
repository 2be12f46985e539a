/**
 * Two instances over one Azure Storage account (Azurite), each with its own store, holder and
 * scheduler: the periodic review's card reaches the owner once, and its escalation the approver
 * once, through the Table storage compare-and-set on the review round and the scheduled work.
 */
import { openAzureStore } from '../../../src/adapters/azure/store';
import { DEMO } from '../../../src/adapters/demo/demoTenant';
import { useAzurite } from '../../support/azurite';
import { manualClock } from '../../support/store';
import { REVIEW_T0, reviewHarness } from '../../support/reviews';

const azurite = useAzurite();
const PERIODIC = { periodic: true, intervalDays: 90, escalateDays: 14 };

describe('periodic access reviews across two instances on Azure Storage', () => {
  it('sends the owner one card and the approver one escalation', async () => {
    const clock = manualClock(REVIEW_T0);
    const account = azurite.account();
    const storeOne = openAzureStore({ account, clock });
    const storeTwo = openAzureStore({ account, clock });
    try {
      const one = await reviewHarness({ settings: PERIODIC, store: storeOne, clock });
      const two = await reviewHarness({ settings: PERIODIC, store: storeTwo, carry: one });
      await Promise.all([one.reviews.schedulePeriodic(), two.reviews.schedulePeriodic()]);
      await Promise.all([one.tick(), two.tick()]);
      await Promise.all([one.tick(), two.tick()]);
      const cards = (to: string, type: string) => one.notifier.sent.filter((s) => s.to === to && s.type === type);
      expect(cards(DEMO.users.megan.id, 'requested')).toHaveLength(1);
      one.clock.advance(15 * 24 * 60 * 60_000);
      await Promise.all([one.tick(), two.tick()]);
      await Promise.all([one.tick(), two.tick()]);
      expect(cards(DEMO.users.alex.id, 'escalated')).toHaveLength(1);
      expect(cards(DEMO.users.megan.id, 'requested')).toHaveLength(1);
    } finally {
      await storeOne.close();
      await storeTwo.close();
    }
  });
});
