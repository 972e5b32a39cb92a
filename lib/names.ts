// Names Lightwhale uses (SPEC "Names Lightwhale uses (must match exactly)").
export const SWAP_PARTITION_NAME = 'lightwhale-swap';
export const DATA_PARTITION_NAME = 'lightwhale-data';
/** GPT type GUIDs: Linux swap, Linux filesystem data. */
export const SWAP_TYPE = '0657fd6d-a4ab-43c4-84e5-0933c84b4f4f';
export const LINUX_FS_TYPE = '0fc63daf-8483-4772-8e79-3d69d8477de4';
export const DATA_LABEL = 'lightwhale-data';
export const SWAP_LABEL = 'lightwhale-swap';
export const SUBVOL_DATA = '@lightwhale-data';
export const SUBVOL_STATE = '@lightwhale-state';
export const SUBVOL_SNAPSHOTS = '@lightwhale-state-snapshots';
export const SUBVOLUMES = [SUBVOL_DATA, SUBVOL_STATE, SUBVOL_SNAPSHOTS] as const;
export const DATA_MOUNT = '/mnt/lightwhale-data';
export const STATE_DIR = `${DATA_MOUNT}/lightwhale-state`;
export const SNAPSHOTS_DIR = `${DATA_MOUNT}/lightwhale-state-snapshots`;
export const OVERLAY_LOWER_ROOT = '/run/lightwhale/overlay/lower';
export const OVERLAY_DIRS = ['etc', 'var', 'home'] as const;
export const DOCKER_DIR = 'docker';
/** The data partition must leave room for btrfs (SPEC: at least 128 MiB). */
export const MIN_DATA_BYTES = 128 * 1024 * 1024;
export const MIB = 1024 * 1024;
export const GIB = 1024 * MIB;
