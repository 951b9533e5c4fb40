// Every twin scenario, in the order `npm run test:twin` runs them. Each runs on a fresh pair.
import { Scenario } from "../scenario";
import { acme } from "./acme";
import { badUpgrade } from "./badUpgrade";
import { dbOutage } from "./dbOutage";
import { dicomSenders } from "./dicomSenders";
import { instanceKill } from "./instanceKill";
import { orthancKill } from "./orthancKill";
import { replace } from "./replace";
import { rotation } from "./rotation";
import { siteBgp } from "./siteBgp";
import { siteToSite } from "./siteToSite";
import { tunnelFailover } from "./tunnelFailover";
import { upgrade } from "./upgrade";

export const SCENARIOS: readonly Scenario[] = [instanceKill, orthancKill, dbOutage, rotation, upgrade, replace, badUpgrade, dicomSenders, siteToSite, tunnelFailover, siteBgp, acme];
