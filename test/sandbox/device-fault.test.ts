// A driver's mmap that maps nothing: on 6.1 the VMA keeps dummy_vm_ops (vma_init, since 4.19), so the program's first
// access is do_fault()'s SIGBUS; 2.6 and 3.4 leave vm_ops NULL and the VMA faults like an anonymous one.
import { describe, expect, it } from "vitest";
import { runModule } from "../../sandbox/run.ts";

const cell = (
  mapIt: boolean,
) => `import { vmalloc_user, vfree, misc_register, misc_deregister, remap_vmalloc_range, ENOMEM, MODULE_LICENSE, module_init, module_exit } from "linux";
import { user_main, open, mmap, store8, close, puts, errno, O_RDWR, PROT_READ, PROT_WRITE, MAP_SHARED, MAP_FAILED } from "user";
MODULE_LICENSE("GPL");
let buf = 0n;
function shared_mmap(file: any, vma: any): number {
  return ${mapIt ? "remap_vmalloc_range(vma, buf, 0)" : "0"};
}
module_init(() => {
  buf = vmalloc_user(16384);
  if (!buf) return -ENOMEM;
  return misc_register("shared", null, null, null, null, shared_mmap, null);
});
module_exit(() => { misc_deregister("shared"); vfree(buf); });
user_main(function main(): number {
  const fd = open("/dev/shared", O_RDWR);
  const p = mmap(0n, 4 * 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (p === MAP_FAILED) { puts("mmap failed, errno " + errno); return 1; }
  for (let i = 0; i < 4; i++) store8(p + BigInt(i * 4096), 42);
  close(fd);
  return 0;
});
`;

describe("a fault in a device mapping the driver did not populate", () => {
  it("6.1: SIGBUS (BUS_ADRERR) at the first store, exit status 135", async () => {
    const r = await runModule(cell(false), { profile: "x86_64-6.1" });
    expect(r.user?.signal?.sig).toBe("SIGBUS");
    expect(r.user?.status).toBe(135);
  });

  it("6.1: the same program runs to the end when the driver maps the buffer", async () => {
    const r = await runModule(cell(true), { profile: "x86_64-6.1" });
    expect(r.user?.signal).toBeUndefined();
    expect(r.user?.status).toBe(0);
  });

  it("3.4 and 2.6: the VMA has no vm_ops and faults like an anonymous one (the program runs to the end)", async () => {
    for (const profile of ["arm-3.4-msm8x25", "i386-2.6"]) {
      const r = await runModule(cell(false), { profile });
      expect(r.user?.signal, profile).toBeUndefined();
      expect(r.user?.status, profile).toBe(0);
    }
  });
});
