#!/usr/bin/env node
// The fleetcast executable. The sources are TypeScript; tsx compiles them on load so that
// `npx fleetcast` works straight after `npm ci`, with no separate build step to forget.
import { register } from 'tsx/esm/api';

register();
await import('../cli/main.ts');
