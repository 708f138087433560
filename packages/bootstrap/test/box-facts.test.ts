import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { boxFacts } from '@airy/manifests';
import { boxFactsModule } from '../../../tools/box-facts.ts';
import { BOX_FACTS } from '../src/box-facts.ts';

test("the compiled-in box facts are @airy/manifests' current ones (else: npx projen box-facts)", () => {
  assert.is(readFileSync(new URL('../src/box-facts.ts', import.meta.url), 'utf8'), boxFactsModule());
  assert.equal(BOX_FACTS, boxFacts());
});

test.run();
