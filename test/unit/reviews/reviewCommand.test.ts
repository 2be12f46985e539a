import { reviewCommandSite } from '../../../src/teams/reviews/reviewFeature';

describe('"review <site>" in chat', () => {
  it.each([
    ['review Project Falcon', 'Project Falcon'],
    ['Review   project falcon.', 'project falcon'],
    ['start a review of Marketing', 'Marketing'],
    ['access review of the site Research?', 'Research'],
    ['review', ''],
    ['review!', ''],
  ])('%s → %s', (text, site) => {
    expect(reviewCommandSite(text)).toBe(site);
  });

  it.each(['reviews', 'reviewer Megan', 'please review Project Falcon', 'invite jane@fabrikam.com to Project Falcon'])('leaves "%s" to the other features', (text) => {
    expect(reviewCommandSite(text)).toBeNull();
  });
});
