// Every twin scenario, in the order `npm run test:twin` runs them. Each runs on a fresh pair.
import { Scenario } from "../scenario";
import { instanceKill } from "./instanceKill";
import { siteToSite } from "./siteToSite";

export const SCENARIOS: readonly Scenario[] = [instanceKill, siteToSite];
