// Every twin scenario, in the order `npm run test:twin` runs them. Each runs on a fresh pair.
import { Scenario } from "../scenario";
import { instanceKill } from "./instanceKill";
import { orthancKill } from "./orthancKill";

export const SCENARIOS: readonly Scenario[] = [instanceKill, orthancKill];
