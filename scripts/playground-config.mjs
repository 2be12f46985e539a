// The Agents Playground's mock Teams context for one demo person, derived from the committed
// .m365agentsplayground.yml (the single list of demo people): that person becomes the current
// user, everyone else stays in `users`, and the personal chat gets that person's own id so
// each person's conversation state stays apart, as in Teams.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import yaml from 'js-yaml';

export function demoPeople(root) {
  const config = yaml.load(fs.readFileSync(path.join(root, '.m365agentsplayground.yml'), 'utf8'));
  return [config.currentUser, ...config.users];
}

/** Writes a config for `personName` to a temp folder; returns its path, or throws naming the people there are. */
export function writeConfigFor(root, personName) {
  const config = yaml.load(fs.readFileSync(path.join(root, '.m365agentsplayground.yml'), 'utf8'));
  const people = [config.currentUser, ...config.users];
  const person = people.find((p) => p.name.toLowerCase() === personName.trim().toLowerCase());
  if (!person) {
    throw new Error(`No demo person called "${personName}". Choose one of: ${people.map((p) => p.name).join(', ')}.`);
  }
  const slug = person.id.replace(/^29:/, '');
  const forPerson = {
    ...config,
    currentUser: person,
    users: people.filter((p) => p !== person),
    personalChat: { ...(config.personalChat ?? {}), id: `a:personal-chat-${slug}` },
  };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'guest-bot-playground-'));
  const file = path.join(dir, '.m365agentsplayground.yml');
  fs.writeFileSync(file, yaml.dump(forPerson));
  return file;
}
