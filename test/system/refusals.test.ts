// Refusals and bad input for mark, unmark, partition and mkswap (SPEC "Commands", "Exit codes",
// "Confirmation"; issue 3 "Bad input"): every refusal exits 3 and leaves the device byte-identical
// (sha256 before/after), every bad value exits 2, a directory exits 1, and each failure prints
// exactly one `lwdisk: <what> : <why>` line without a stack trace. The image-file cases need no
// root; the loop-device cases (mounted, active swap, partition path, read-only) do.
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { LWDISK, lwdisk } from '../helpers/cli.js';
import { missingTools, run, scratchDir, sh, sparseImage, systemTestGuard } from '../helpers/system.js';
import { attachClean, checkOneFailureLine, head, isActiveSwap, kernelPartitions, MAGIC_RECORD, sha256Of, swapoffIfActive } from '../helpers/write.js';

const MiB = 1024 * 1024;

const { dir, cleanup } = scratchDir('lwdisk-refusals-');
t.teardown(cleanup);

/** A sparse image, optionally carrying the magic record at byte 0. */
function image(name: string, size: number, magic = false): string {
  const path = sparseImage(join(dir, name), size);
  if (magic) {
    const r = lwdisk(['mark', '--yes', path]);
    if (r.code !== 0) throw new Error(`mark ${path}: ${r.stderr}`);
  }
  return path;
}

const mtime = (path: string): bigint => statSync(path, { bigint: true }).mtimeNs;

/**
 * Run lwdisk, expect `code` and one failure line matching `why`, and no write at all to `files`
 * (image files, or the files backing loop devices: any write through a loop device updates the
 * backing file's mtime). Byte-identity is checked with sha256 around each group (`unchanged`).
 */
function expectRefusal(t: Test, args: string[], code: number, why: RegExp, files: string[], env: NodeJS.ProcessEnv = {}, allow?: RegExp): void {
  const before = files.map(mtime);
  const r = lwdisk(args, { env });
  t.equal(r.code, code, `lwdisk ${args.join(' ')} exits ${code}`);
  checkOneFailureLine(t, allow ? r.stderr.split('\n').filter((l) => !allow.test(l)).join('\n') : r.stderr, why);
  t.equal(r.stdout, '', 'nothing on stdout');
  t.same(files.map(mtime), before, 'nothing written (mtime unchanged)');
}

/** sha256 of `paths` before and after `fn`: byte-identical. */
async function unchanged(t: Test, paths: string[], fn: () => void | Promise<void>): Promise<void> {
  const before = paths.map((p) => sha256Of(p));
  await fn();
  t.same(paths.map((p) => sha256Of(p)), before, `byte-identical afterwards (sha256 of ${paths.join(', ')})`);
}

t.test('image files (no root needed)', async (t) => {
  t.test('an image with a GPT: mark refuses without --force', missingTools(['sgdisk']).length ? { skip: 'no sgdisk' } : {}, async (t) => {
    const img = image('gpt.img', 64 * MiB);
    sh('sgdisk', ['-n', '1:0:0', '-t', '1:8300', img]);
    await unchanged(t, [img], () => {
      expectRefusal(t, ['mark', '--yes', img], 3, /holds gpt table with 1 partition.*--force/, [img]);
      expectRefusal(t, ['mkswap', '--yes', img], 3, /holds gpt table.*--force/, [img]);
    });
  });

  t.test('an image without the magic: partition refuses without --force', async (t) => {
    const img = image('blank.img', 160 * MiB);
    await unchanged(t, [img], () => {
      expectRefusal(t, ['partition', '--yes', img], 3, /no magic header.*lwdisk mark.*--force/, [img]);
      expectRefusal(t, ['partition', '--yes', '--dry-run', img], 3, /no magic header/, [img]);
    });
  });

  t.test('no TTY and no --yes: exit 3, nothing written', async (t) => {
    const blank = image('notty-blank.img', 160 * MiB);
    const marked = image('notty-marked.img', 160 * MiB, true);
    // spawnSync gives the child a pipe for stdin: not a TTY.
    await unchanged(t, [blank, marked], () => {
      expectRefusal(t, ['mark', blank], 3, /not a terminal.*--yes/, [blank]);
      expectRefusal(t, ['unmark', marked], 3, /not a terminal.*--yes/, [marked]);
      expectRefusal(t, ['partition', marked], 3, /not a terminal.*--yes/, [marked]);
      expectRefusal(t, ['mkswap', blank], 3, /not a terminal.*--yes/, [blank]);
    });
    t.ok(head(marked, 28).equals(MAGIC_RECORD), 'the magic is still there');
  });

  t.test('on a TTY: asks, and only "y" writes', missingTools(['script']).length ? { skip: 'no script(1)' } : {}, async (t) => {
    const img = image('tty.img', 8 * MiB);
    const ask = (answer: string) =>
      run('sh', ['-c', `printf '%s\\n' "$1" | script -qec "\"$2\" \"$3\" mark \"$4\"" /dev/null`, 'sh', answer, process.execPath, LWDISK, img]);
    await unchanged(t, [img], () => {
      for (const answer of ['n', '', 'maybe']) {
        const r = ask(answer);
        t.equal(r.code, 3, `answer ${JSON.stringify(answer)}: exit 3`);
        t.match(r.stdout, /Mark .*tty\.img for Lightwhale\? \[y\/N\]/, 'asked');
        t.match(r.stdout, /not confirmed, nothing written/, 'not confirmed');
      }
    });
    const yes = ask('y');
    t.equal(yes.code, 0, 'answer "y": exit 0');
    t.ok(head(img, 28).equals(MAGIC_RECORD), 'written after "y"');
  });

  t.test('a device too small for 128 MiB of data', async (t) => {
    const small = image('small.img', 100 * MiB, true);
    const edge = image('edge.img', 147 * MiB + 16896 - 512, true); // one sector short (see layout.test.ts)
    const big = image('big-swap.img', 160 * MiB, true);
    const tiny = image('tiny.img', 32 * 1024);
    const crumb = image('crumb.img', 27);
    await unchanged(t, [small, edge, big, tiny, crumb], () => {
      expectRefusal(t, ['mark', '--yes', crumb], 3, /27 bytes; the magic header needs 28/, [crumb]);
      expectRefusal(t, ['partition', '--yes', small], 3, /MiB for data.*at least 128 MiB/, [small]);
      expectRefusal(t, ['partition', '--yes', '--no-swap', small], 3, /at least 128 MiB/, [small]);
      expectRefusal(t, ['partition', '--yes', edge], 3, /127 MiB for data/, [edge]);
      expectRefusal(t, ['partition', '--yes', '--swap-size', '32M', big], 3, /after 32 MiB of swap/, [big]);
      expectRefusal(t, ['mkswap', '--yes', tiny], 3, /at least 10 pages/, [tiny]);
    });
  });

  t.test('another lwdisk holds the device lock', async (t) => {
    const img = image('locked.img', 64 * MiB);
    const lockDir = join(dir, 'locks');
    const st = statSync(img, { bigint: true });
    const lock = join(lockDir, `file-${st.dev}-${st.ino}`);
    mkdirSync(lock, { recursive: true });
    writeFileSync(join(lock, 'owner'), String(process.pid)); // we are alive: the lock is held
    await unchanged(t, [img], () => {
      expectRefusal(t, ['mark', '--yes', img], 3, new RegExp(`another lwdisk \\(pid ${process.pid}\\)`), [img], { LWDISK_LOCK_DIR: lockDir, LWDISK_LOCK_WAIT_MS: '300' }, /waiting for another lwdisk/);
    });
  });

  t.test('bad input: exit 2 (exit 1 for a directory), one line, nothing written', async (t) => {
    const marked = image('bad-input.img', 160 * MiB, true);
    const blank = image('bad-input-blank.img', 64 * MiB);
    await unchanged(t, [marked, blank], () => {
      for (const size of ['1.5G', '-1', '10Q', '100K', '']) {
        expectRefusal(t, ['partition', '--yes', '--swap-size', size, marked], 2, /--swap-size/, [marked]);
      }
      expectRefusal(t, ['partition', '--yes', '--swap-size=-1', marked], 2, /--swap-size/, [marked]);
      expectRefusal(t, ['partition', '--yes', '--swap-size', '64M', '--no-swap', marked], 2, /swap-size.*no-swap/, [marked]);
      expectRefusal(t, ['partition', '--yes', '--sector-size', '1024', marked], 2, /sector-size/, [marked]);
      expectRefusal(t, ['mkswap', '--yes', '--label', 'a\nb', blank], 2, /--label : .*control/, [blank]);
      expectRefusal(t, ['mkswap', '--yes', '--label', '0123456789abcdef', blank], 2, /--label : label is 16 bytes/, [blank]);
      expectRefusal(t, ['mkswap', '--yes', '--label', 'é'.repeat(8), blank], 2, /--label : label is 16 bytes/, [blank]);
      expectRefusal(t, ['mkswap', '--yes', '--uuid', 'not-a-uuid', blank], 2, /--uuid/, [blank]);
      expectRefusal(t, ['mkswap', '--yes', '--page-size', '12288', blank], 2, /page-size/, [blank]);
      expectRefusal(t, ['mark', blank, '--yes', '--frobnicate'], 2, /frobnicate/, [blank]);
      expectRefusal(t, ['partition', marked, '--yes', '--frobnicate'], 2, /frobnicate/, [marked]);
      expectRefusal(t, ['frobnicate', blank], 2, /frobnicate/, [blank]);
      const d = join(dir, 'a-directory');
      mkdirSync(d);
      for (const cmd of ['mark', 'unmark', 'partition', 'mkswap']) expectRefusal(t, [cmd, '--yes', d], 1, /is a directory/, []);
      expectRefusal(t, ['mark', '--yes', join(dir, 'does-not-exist')], 1, /no such file/, []);
    });
  });

  t.test('an unknown flag before the device names the flag', async (t) => {
    const blank = image('flag-order.img', 64 * MiB);
    expectRefusal(t, ['mark', '--frobnicate', blank], 2, /frobnicate/, [blank]);
  });
});

t.test('loop devices', systemTestGuard(['partx', 'blkid', 'mkfs.ext4', 'unshare', 'swapon', 'swapoff', 'mount', 'findmnt']), async (t) => {
  t.test('a mounted loop device (ext4, private mount namespace)', async (t) => {
    const img = sparseImage(join(dir, 'mounted.img'), 160 * MiB);
    sh('mkfs.ext4', ['-q', '-F', '-E', 'lazy_itable_init=0,lazy_journal_init=0', img]);
    const loop = attachClean(img, 512);
    const mnt = join(dir, 'mnt');
    mkdirSync(mnt, { recursive: true });
    try {
      // Read-only, so ext4 itself writes nothing while mounted; the mount vanishes with the namespace.
      const script = `
        set -u
        mount -o ro "$1" "$2" || { echo "MOUNT-FAILED"; exit 0; }
        echo "BEFORE $(sha256sum < "$1")"
        for args in "mark --yes --force" "mark --yes" "partition --yes --force" "mkswap --yes --force" "unmark --yes"; do
          "$3" "$4" $args "$1" 2>"$5.err" >"$5.out"; rc=$?
          echo "RC $rc $args"
          echo "ERR $(tr '\\n' '|' < "$5.err")"
        done
        echo "AFTER $(sha256sum < "$1")"
        findmnt -n -o SOURCE "$2" | sed 's/^/MOUNTED /'
      `;
      const before = mtime(img);
      const r = run('unshare', ['-m', '--propagation', 'private', 'sh', '-c', script, 'sh', loop.path, mnt, process.execPath, LWDISK, join(dir, 'ns')]);
      t.equal(r.code, 0, `namespace script ran ${r.stderr}`);
      t.notMatch(r.stdout, /MOUNT-FAILED/, 'mounted');
      t.match(r.stdout, new RegExp(`MOUNTED ${loop.path}`), 'still mounted inside the namespace at the end');
      const rcs = [...r.stdout.matchAll(/^RC (\d+) (.*)$/gm)].map((m) => [m[2], Number(m[1])]);
      t.same(
        rcs,
        [
          ['mark --yes --force', 3],
          ['mark --yes', 3],
          ['partition --yes --force', 3],
          ['mkswap --yes --force', 3],
          ['unmark --yes', 3],
        ],
        'every write command refuses (exit 3), --force or not',
      );
      for (const m of r.stdout.matchAll(/^ERR (.*)$/gm)) checkOneFailureLine(t, m[1]!.replace(/\|/g, '\n'), /in use: mounted at/);
      const sum = /^BEFORE (\S+)/m.exec(r.stdout)?.[1];
      t.ok(sum, 'hashed');
      t.equal(/^AFTER (\S+)/m.exec(r.stdout)?.[1], sum, 'byte-identical while mounted (sha256)');
      t.equal(mtime(img), before, 'nothing written (backing file mtime unchanged)');
      t.notMatch(run('findmnt', ['-n', '-S', loop.path]).stdout, /\S/, 'no mount left outside the namespace');
    } finally {
      loop.detach();
    }
  });

  t.test('an active swap partition, a partition path, no TTY', async (t) => {
    const size = 160 * MiB;
    const img = sparseImage(join(dir, 'swap.img'), size);
    const loop = attachClean(img, 4096);
    const p1 = `${loop.path}p1`;
    try {
      t.equal(lwdisk(['mark', '--yes', loop.path]).code, 0, 'mark');
      t.equal(lwdisk(['partition', '--yes', loop.path]).code, 0, 'partition');
      t.equal(lwdisk(['mkswap', '--yes', '--label', 'lightwhale-swap', p1]).code, 0, 'mkswap');
      await unchanged(t, [loop.path], async () => {
        // A partition where a whole disk is needed: says which disk was meant.
        const disk = new RegExp(`is a partition; did you mean the whole disk ${loop.path}\\?`);
        expectRefusal(t, ['mark', '--yes', p1], 3, disk, [img]);
        expectRefusal(t, ['mark', '--yes', '--force', p1], 3, disk, [img]);
        expectRefusal(t, ['partition', '--yes', '--force', p1], 3, disk, [img]);
        expectRefusal(t, ['unmark', '--yes', p1], 3, disk, [img]);
        // No TTY on a block device.
        expectRefusal(t, ['mark', '--force', loop.path], 3, /not a terminal/, [img]);
        expectRefusal(t, ['mkswap', p1], 3, /not a terminal/, [img]);
      });

      // While the swap is active the kernel may page out into it, so compare everything except the
      // swap area's data pages: the disk outside partition 1, and its header page.
      const [part1] = kernelPartitions(loop.path);
      t.ok(part1, 'partition 1 known to the kernel');
      const outsideSwapData: Array<[number, number]> = [
        [0, part1!.start + 4096],
        [part1!.start + part1!.size, size],
      ];
      t.equal(run('swapon', [p1]).code, 0, 'swapon');
      try {
        t.ok(isActiveSwap(p1), 'swap active');
        const before = sha256Of(loop.path, outsideSwapData);
        expectRefusal(t, ['mark', '--yes', '--force', loop.path], 3, /in use: partition 1 active swap/, []);
        expectRefusal(t, ['partition', '--yes', '--force', loop.path], 3, /in use: partition 1 active swap/, []);
        expectRefusal(t, ['partition', '--yes', '--force', '--dry-run', loop.path], 3, /in use/, []);
        expectRefusal(t, ['mkswap', '--yes', '--force', p1], 3, /in use: active swap/, []);
        expectRefusal(t, ['unmark', '--yes', loop.path], 3, /in use/, []);
        t.ok(isActiveSwap(p1), 'swap still active');
        t.equal(sha256Of(loop.path, outsideSwapData), before, 'byte-identical outside the swap data pages (sha256)');
      } finally {
        swapoffIfActive(p1);
      }
    } finally {
      swapoffIfActive(p1);
      loop.detach();
    }
  });

  t.test('a read-only loop device', async (t) => {
    const img = sparseImage(join(dir, 'ro.img'), 64 * MiB);
    const ro = sh('losetup', ['-f', '--show', '-r', img]).trim();
    try {
      t.match(ro, /^\/dev\/loop\d+$/);
      await unchanged(t, [ro], () => {
        expectRefusal(t, ['mark', '--yes', ro], 3, /read-only/, [img]);
        expectRefusal(t, ['mkswap', '--yes', ro], 3, /read-only/, [img]);
      });
    } finally {
      run('losetup', ['-d', ro]);
    }
  });

  t.test('a loop device too small for 128 MiB of data', async (t) => {
    const img = sparseImage(join(dir, 'small-loop.img'), 100 * MiB);
    const loop = attachClean(img, 512);
    try {
      t.equal(lwdisk(['mark', '--yes', loop.path]).code, 0, 'mark');
      await unchanged(t, [loop.path], () => {
        expectRefusal(t, ['partition', '--yes', loop.path], 3, /at least 128 MiB/, [img]);
      });
      t.ok(head(loop.path, 28).equals(MAGIC_RECORD), 'the magic is still there');
      t.same(kernelPartitions(loop.path), [], 'no partitions');
    } finally {
      loop.detach();
    }
  });
});
