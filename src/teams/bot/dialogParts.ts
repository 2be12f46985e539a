/**
 * The parts of botbuilder-dialogs the bot uses, each from its own module. The package's index
 * also loads every other prompt and dialog with the Recognizers-Text culture data behind them,
 * which the bot never uses and which took more than a third of the bot's start-up. Types still
 * come from 'botbuilder-dialogs' (erased at compile time); these are the same classes the index
 * exports.
 */
export { ComponentDialog } from 'botbuilder-dialogs/lib/componentDialog';
export { Dialog, DialogTurnStatus } from 'botbuilder-dialogs/lib/dialog';
export { DialogSet } from 'botbuilder-dialogs/lib/dialogSet';
export { TextPrompt } from 'botbuilder-dialogs/lib/prompts/textPrompt';
export { WaterfallDialog } from 'botbuilder-dialogs/lib/waterfallDialog';
