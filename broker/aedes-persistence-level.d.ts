/**
 * Types for the one file of aedes-persistence-level we use; the package ships none.
 */
declare module "aedes-persistence-level/asyncPersistence.js" {
  import type { ClassicLevel } from "classic-level";

  /** aedes 1.x's async persistence interface over a LevelDB; aedes calls the rest. */
  export default class LevelPersistence {
    constructor(db: ClassicLevel<string, Buffer>);
    destroy(): Promise<void>;
  }
}
