/** The version printed by `--version` and recorded in every backup's metadata. */
export const VERSION = "0.1.0";
