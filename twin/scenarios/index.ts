// Every twin scenario, in the order `npm run test:twin` runs them. Each runs on a fresh pair.
import { Scenario } from "../scenario";
import { dbOutage } from "./dbOutage";
import { instanceKill } from "./instanceKill";
import { rotation } from "./rotation";

export const SCENARIOS: readonly Scenario[] = [instanceKill, dbOutage, rotation];
