// LZ4 block codec: interop with python3-lz4 (liblz4 1.9.4) vectors, round-trips, malformed input.
import assert from "node:assert/strict";
import { lz4Compress, lz4Decompress } from "../../src/crypto/lz4.ts";
import { sha256 } from "@noble/hashes/sha2.js";
import { fromHex, toHex } from "../../src/util/hex.ts";

/** xorshift32 PRNG; the offline vector generator (python) uses the identical recurrence. */
class Rng {
  x: number;
  constructor(seed: number) {
    this.x = seed >>> 0;
  }
  next(): number {
    let x = this.x;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.x = x >>> 0;
    return this.x;
  }
  byte(): number {
    return this.next() >>> 24;
  }
  bytes(n: number): Uint8Array {
    const b = new Uint8Array(n);
    for (let i = 0; i < n; i++) b[i] = this.byte();
    return b;
  }
}

const enc = new TextEncoder();
const WORDS = [
  "network",
  "zerotier",
  "member",
  "config",
  "peer",
  "root",
  "ipv4",
  "route",
  "multicast",
  "allowed",
  "authorized",
  "revision",
  "certificate",
  "capability",
  "tag",
  "rules",
  "=",
  "\n",
  "0",
  "ff",
];

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Inputs the python vectors were made from, regenerated deterministically. */
function vectorInputs(): Record<string, Uint8Array> {
  const textParts: Uint8Array[] = [];
  let tr = new Rng(1);
  let n = 0;
  while (n < 2000) {
    const w = enc.encode(WORDS[tr.next() % WORDS.length] + " ");
    textParts.push(w);
    n += w.length;
  }
  const text = concat(textParts).slice(0, 2000);

  tr = new Rng(2);
  const pats = [
    fromHex("0011223344556677"),
    fromHex("deadbeefdeadbeef"),
    enc.encode("abcdefgh"),
    new Uint8Array(8).fill(0xff),
  ];
  const records = new Uint8Array(4096);
  const dv = new DataView(records.buffer);
  for (let i = 0; i < 256; i++) {
    dv.setUint32(i * 16, i * 7);
    records.set(pats[tr.next() % 4], i * 16 + 4);
  }

  const r3000 = new Rng(4).bytes(3000);
  const long9000 = concat([r3000, r3000, r3000]);
  long9000[4500] ^= 0x55;
  long9000[7000] = 0;

  return {
    text,
    records,
    random: new Rng(3).bytes(300),
    long9000,
    zeros: new Uint8Array(1000),
    thirteen: enc.encode("aaaaaaaaaaaaa"),
    tiny: Uint8Array.of(1, 2, 3, 4, 5),
    empty: new Uint8Array(0),
  };
}

/** python3-lz4 1.9.4 `lz4.block.compress(data, store_size=False)` outputs for the VECTORS inputs. */
const PY_BLOCKS: Record<string, string> = {
  text: [
    "84616c6c6f776564200800f71f7a65726f746965722072756c6573206361706162696c697479207065657220",
    "6d656d62657220617574686f72697a3900f406636572746966696361746520666620636f6e66696730001530",
    "6000075100083200015d00048400d20a20666620726f6f7420726f754f0014301000d46f74203d2072657669",
    "73696f6e5f00036d000851000768007d6e6574776f726b080035746167040004420006ef0003ea00276666ce",
    "00075500070b00045800019d00020500013c0105a60001dd00120a4101b73d206d756c7469636173740a0002",
    "e800067c01876f6f742069707634230003a200046d003f3d203d860101113dd200054900042e000182001f3d",
    "df0000052a0003ef0107c501048e01013c0007f10108660104600004080003a50005fa00160aab0101470006",
    "6f0001d901050f00011d000764002666661c004d3d206666bc01123d1f0102b6002866660b0105390008a900",
    "080c0006210006ee01380a200a0f00082f00333d2030af0007a100031e022974611502123de401072800098e",
    "01071800073f02120aef010f170201011701054d0102ed005774616720301802047b0116306b01013a020673",
    "03010f00077c0004d901050801035d03068200079e00080a01080c00236666e602030a01054d00543d203020",
    "3dff03031002077d001230b90108e101067800034c000f7f00042a6666f40207270007610004100104e60007",
    "260002660305500107350005be0005090008ec0003c60005f300024800021a0403b300030700021a0001b701",
    "075e0002b901078900098a03057300060801073c0001bd01015100061f003230203d1603327461674f01061c",
    "00180a0b03061700077d0006b50002ae002766664e023e746167ed02030001180a9403045f0107ab001130b7",
    "05049b05025d0006820001c900021e0501fc03068700035f0007a300068600032f0204d50105830103700107",
    "340008b101016700022903017700036200257461910601220002a30005800101cd0307010503640002be0103",
    "0d001430da0207f800014c0011302604196f6a01017c0001a90104c000057c0203920008b500075200042f00",
    "163d7201071e00038b000115020841005072756c6573",
  ].join(""),
  records: [
    "c00000000061626364656667680c004b0000000710001b0e10001b1510001b1c10002323ff0100014e00b300",
    "002adeadbeefdeadbeef10001b3130001b381000133f3f0013ff30001b4620001b4d50001b541000935b0011",
    "22334455667740001b6240001b6910001b7070001b7710001b7e60001b8520001b8c70001b9310001b9a7000",
    "1ba150001ba850001baf40001bb610001bbd40001bc420001bcb20001bd260001bd910001be030001be72000",
    "1bee20001bf5d0001afc10002a010340002a010a40002b011110001a18c0002b011f20001b2610001b2d7000",
    "1b3410001b3b80001b4260001b4910001b5010001b5740001b5e60001b6530001b6c10001b7330001b7a5000",
    "1b8110001b8840001b8ff0001b9610001b9d10001ba410001bab60001bb260001bb9a0001bc010001bc73000",
    "1bce20001bd510001bdc80001be310001bea90001bf110001bf870001aff60002a020650002a020d40002b02",
    "1420001b1b40001b2220001b2920001a3080002b023720001b3e70001b4520001b4c60001b5330001b5a1000",
    "1b6130001b6820001b6f60001b76a0001b7d30001b8410001b8b40001b9240001b9920001ba090001ba73000",
    "1bae20001bb570001bbc10001bc310001bca40001bd160001bd820001bdf40001be6b0001bed40001bf43000",
    "1afb50002b030210001a0940002b031020001a1750002b031e30001a2590002b032c40001b3310001b3a3000",
    "1b4160001b4830001b4f10001b5630001b5d10001b6430001b6bb0001b7220001b7910001b8050001b871000",
    "1b8e30001b9560001b9ce0001ba340001baa40001bb130001bb810001bbf30001bc650001bcd30001bd41000",
    "1bdb10001be210001be910001bf070001bf7e0001afe10002b040510001b0c10001a1350092a041ac0002b04",
    "2120001b2840001b2f20001a36a0002b043d10001b4410001b4b50001b5250001b5930001b6010001b674000",
    "1b6ec0001b7520001b7c60001b8350001b8a40001b9110001b9840001b9f10001ba630001bad20001bb41000",
    "1bbba0001bc220001bc910001bd060001bd740001bde20001be5e0001bec20001bf340001afa70002b050110",
    "001a0840002a050f40002b051610001b1d30001a2490002b052b20001b3270001b3910001b4040001b472000",
    "1b4e10001b5560001b5ca0001b6310001b6a40001b7140001b7880001b7f10001b8630001b8d50001b941000",
    "1b9b80001ba250001ba930001bb010001bb710001bbe10001bc560001bcc10001bd310001bdac0001be19000",
    "1be830001bef10001bf630001afd20002a060420002a060b70002b061210001b1940001b2040001b2730001b",
    "2e10001a3510012b063c20001b4360001b4a30001b5110001b5840001b5f40001b6610001b6db0001b744000",
    "1b7b30001b8230001b8980001b9040001b9710001b9e40001ba510001bac70001bb320001bba10001bc13000",
    "1bc890001bcf30001bd630001bdda0001be420001beb20001bf2100013f97000506800000000",
  ].join(""),
  random: [
    "f0ff1e000cb4716d1ccd4a3fffd7a6a9b80643da9509cf4869ca09761f96886a50eb5c05254f2f0707789654",
    "05ae7a108761a0fd4b166a5633efb610ecc1aa060c8775ebb6814bc4448ca1aaf39759fd80695bf06417b061",
    "722af34cc92e032bdef72076b59cb05ad7620a6f2f73ef7fbac1f9d02ccef142377a4d1088ba9d8296586265",
    "d55350345f63100e2e79f8bdf70b97a5d7bb6b61bc409e0b67815816b5030c6ec3bfa76495bf1d11ee2f6a74",
    "8fee47a7fcb12485560ca139888fcb04f008a22c5bc5371b230b9e96388866fa70194e189dae0d100a4cefa3",
    "9a81feae2c6f486cee04dcd05a0c58d606ff39a8c0762e558973dbbbec6e47de80e85c729ad5bd48a39228dc",
    "ea70d7dc4bf3ab9a4a8edefc2fa355a9528f5acca234e79bd3f5c301274d977abc289a91ceadc4",
  ].join(""),
  long9000: [
    "ffffffffffffffffffffffffb4001053c7c761c26561eb3283c432669260707aaa56e320ce629dce122e2ed8",
    "c2c8f050dbe5a7ccf9d8ab0f248df68fb3fe7f9e16dc5e2f9684f1cd1ab9b30511e66e00a306c7449bbd4c96",
    "43b5f0f5f238f53593e85cf9d1eca378d2915d44ed0e423ceafd1583825094c5eece00773cb7024466cbdd00",
    "359a32330e6dae5e8364ba724f5a8fc710dce3ac5cc7742a320acc432f0cdce4bf0966d000ca203f28286690",
    "66063ee2233d211bfff1bce346378f9bb1e945e562198a9585212c830f474c7090dafb18aa41190a4094bb81",
    "8459e90ff4a1e9526c18fa7073eeca136519d04395a5c3cdfccad264c9047c1216e7f46fee27f4f600ed2d51",
    "2ba827b6b7a41d9810feb6b6770205084c7ac73c51e0c08965a94995ba7bb27ef548731f9db64a5c92729285",
    "86d3b308e63ca8bb4f21848ab99b28a8dae4e7bc379165a6c27082b436b820179606913442e63dbc88925d84",
    "e6f61514ff7d10c0d5b59f763e1eafd1ed40881df523569a4504872cc485ab503e801c08454659681872b8c4",
    "fee47b76d37d656bfe0abfd64b2508e7a5284acf9fb0984a1a6372ce30d481fdfc40ecb2d72a6936372efa14",
    "19a0262dc1db32a50b2669cffd0283fea92179e0d1b3fb1a656c3d339b8f8e85aa3b094868734eda3e4a05db",
    "2c220991543d7994b1cb8e84dedde6edecf627d69c3861c4606b050dcccec01b360df13460be2933656f6b6f",
    "e7ba59252b28812c3cda554281d7436e42a545b16f452565879a34141e874793ea141b73459e1cfab9ede281",
    "0c78d5bf8e2266be9870beb1c89366da46c547f563b3d6f923de1163ed35629c0150755970a0d26c60ffb5ff",
    "d4e4c5101c9e61edea0fcebe2a84ccf0c1a350990e2210327c8fdf069114b166c00364b46c758f21740c31d1",
    "81ea007443aeea23b6aa4705e7531d08130cc71f4cb651c422dac2d7c1bd2a0cfae6dcbf544ad6a881c03efd",
    "04ed9a202557f1df25a1a8997a9368edb11443c9ab77b812d06783b4ce91eff093283c0afe5a287cfc4a9311",
    "4c00f347cb5c667837a96a1ac716458809abef1b99a1d01f7b13bb615a362fe6298f90e1459dbcfeb333d40c",
    "0a199ed925d528643a5d1273617dab3d21f2e2c91f60bd42e487f126a1774cd24f9a4d919db6fdf01a69f7ef",
    "0888fb16e8d642048d8f7e52ce91de3a196dcff8a459ac84588608c31afe3d1c86b77d789ff8da76bfb44756",
    "7d713253c7c3d6da08a0a1b9d701c6b29ac48318ee17fac3cb4647f97df6fb71d9ba05685fb9bae24057564a",
    "e28b1f329dd90462c43bf906f0faefc43fe13ffa59c129f02a50b228765d7c004a9fb84c3982b8d9f2d73941",
    "60664c16ea1e7ed3849d60e001f18cd6fc58d587d557b50326249dfe2f75d085519a3f15ca094972fb52e88a",
    "0bb364294bb22b2a8cdc65a7dfa90faa7c3701d4e4560f98f8fa4f9ca8c7cb680942f5c191f0a5df65609f04",
    "745b0be63d71f44fd7b1efe9df62444fcc86bb8d8debf7efe4980e9d3abe6375ecdf8c2f09b60228823add0a",
    "8716470476e04b6bba7c40e10ecaad081480611c91fe9e50fbe2c7017fcae54f87ad35cda831ad75c8284f4d",
    "1d8344580e133d906d08a07edffda2effbc64eacc5a986b23d9b9cc4ccd2c3762daf9e628aa82d8be0a33efc",
    "8576c39e2240d3ae3a9d14cc65eac2f07108b0ae646831cd7596e09a1abcaaade36e125bb57b1eef46131394",
    "f16da48a38f2b627ae0175d4483f2bcb7dcebdac0c6b23bb8d3f8924dd5d12721edc3ec2220ef6efc17ed25e",
    "ccd5507e0db621588cc97cffb198834c214f7a7632d284903ffd18459db4802f48f4cff8e14033b5dda42aa9",
    "e36eacff950563d716dbd80667d7a6953c958242f0a0efada44c67f2e74124526db745e250da11e918d26cf5",
    "3d8672d9735c9e71999a6a243ffac7c8e3603f3db51ebbbd44f918c50e3de239ffa4dcca44941fa32f982407",
    "7eeb884418da43f119986b1e90aec4d880dca4885d2733d1ea7c9801e6f55b83334cc346a239af22150e3f83",
    "d89622e34594609e1a3048fe8cdbfa142637592e136b86742407f9163159c1595efb739f1b853873a56b858a",
    "351ae591b6f784e05f38c23a1e3e27f5e7f032fc8deb623300aa3330b4addf6f03e05c42945393ad6909ea74",
    "3a2b1205a6d65ace00662d9987c06007690f1688aadb2da854687322d85f3a508164915db7c76e2454673f4b",
    "cb819c739ed7e2a3f46fb653197b7292dda898226afe1aa3a0b29cbd14b13dc420ef41b8bc896dc6a1dfbac3",
    "d99deccaafd26c15e2153e083b81db466349cd7be8468afa7b06a69b9f3060dd6c0189c5ed3905e494edd277",
    "6d2d9ae7cb39b0cb93df242bf35d3cbe28d547ddf708107c1711c4fd1a5aa52c302191dd4aaa41837e91e325",
    "477e86492d9c433aa2096c933f28153fe799d46a619b15bf4f6c4a6fe7b71c87faa1f32dc5d2009a9d7b667c",
    "22ec99006dd80fa3ec1a04fec752502c1ce794489a6e08689647c3f0f35e36f7845bacac38d69a9ae2f41def",
    "4ea3275b274b6f07c7379c54105c83ccc8b6268445a4f21a5dd9287e2b936125ac8d47b88d199a3c2d15d606",
    "325d9f9441fcaea386c6bc7cbd8a66984e9d9be59943f2f03a34c9dd295836a49dc28b0b465fbbe52e5c27fb",
    "e42f051641bf6fd8fbee2d9bdbc20ebbe375014d74d8db1bb8236b07c347c6dd45b9d28361234fce8bd98008",
    "cea59596aac1028ef9a893617c1f9f447727735bcc851788f1c79f35b9a8fb04f9fdd031229e6751a2a652c5",
    "73f42ba4f8f70820b638d4c077db9eee14c08c76e6d002f62cc022791595e6093f343d49c503e69f07bd4c54",
    "011a78dbbf762412e54ce51a3917027e432183752ef9e3c8380bdd82fffc256815126cc85af010cfba382c98",
    "aada2c9ffa57833006bd275d2c92d9e7138b41ccd1bb1263666f43e68fb2aa46c6cc38b901f5ed3bd22cc63c",
    "27fb9ba83bb350287ca1102cdc451115f816148d2217976c40b20e2f69da2ef268156659e92613afa030d7a3",
    "85de5c1de40d2cf6c35d888ad85a16ca2b321d064358e689e77ac1356c8b8f601aa77e2487e7c53ce1780552",
    "b0cfbc11c5ffcfb1d4247844662de67ffad01e857bbc8a7660fd02420029f4784e55b8c6d6c0ba8d8ace7dfb",
    "3a4fdfcd3c40c03e9d14ab93cb165229df3a95bd1f883ac8ebf0f138a59046b010a9ec33c83baf320b312964",
    "c0af66326620a2c83d83996b8ad1b71c8218cd582eab41860ed278935fbccf3e4231b0a20be900198f1d1ea7",
    "3936a3a0216a7a209acbf08342dfa187c1b263463d4cd1f65c18f04fbf3053424825d9f204a0c3e786e6e232",
    "9e1de1b6b3f26f1b3200dfc3bb50cc0d1dd4b09f8ebc1982786130a1d1ff4a06f9cdefb82d5ee1aa6fb28753",
    "a1318b32c05cdd5aded31e934282d69da0ac7448c58695e8829967bdf0bf707037a2bcc78095685ad5b51f7c",
    "403b2a3860623ecda14159decfe8e23c9102187189f5bdc6b6edd771bff753c6f6aab01d6d518abe39a84e44",
    "ba93d2476f389608f04cdd3df0ed558305ca27d65b8dce0d9f973d1dc78a89515b29139ce82b164c569e8ec8",
    "5a96e287e1aad273da71593571a75384016e8c6816de72969a4154136dbbc5d16c6726d31ad9e588d3213af6",
    "c0fa2a5a77c273784a64bb838231a548610d89ff3f66d8173e198ce5b301d4cf18e7e6900540b96bef834e95",
    "e14279496fcbaa2c3a323da124b56e361862724357578023b0d9719856b5e1a372cc785c4bab1b80460e36ef",
    "a13cc0540b3ec345cfdc84644c40f125c1de50ce583452b1f71341f6d32ad07646b93532627b24225e71c6a9",
    "ec956f86812483c366ad8c2eff55238b2bb68a2a555dcd9ed433a93ed71a98f5741fcb67114b118ac924f483",
    "a396175651e7ad12770fa593ae1ba0c54116698820046b4a4099df7626b9713eb70b29cdf25bd8714fee1384",
    "207233e3ba9f2e5af1279dd1b846024a44d312cb6c0f079072f7aaf13687098c0806bb3ba553f1b8aa7e520f",
    "f27d4d9241ea1ba20fa67ac6984d126f8adf1b58a25502cbfcc7567ad49a1d0159f6b7aa9260c7f1ae9abb21",
    "d3bd86614a325c6011b37ad24f5c39fcbbc635a14f732ac8a034d3a256b797c197624710fd92fe6da815e19c",
    "6cc73c50a94d2eb2c0647f28059db2a7b10f84b86550d6fcec3dc324b86947d935c3cd49dc3273965c26ccc6",
    "37ca519b6dc5f864e6f5bfa65c45348be5385ffee0b80bffffffffffce1fa5b80bffffffffffffffffffb91f",
    "007017ffffffffffffffbe50e5385ffee0",
  ].join(""),
  zeros: "1f000100ffffffd2500000000000",
  thirteen: "13610100506161616161",
  tiny: "500102030405",
  empty: "00",
};

/**
 * LZ4 payloads (packet bytes 28..end, verb flag 0x80) that ZeroTier One 1.14.1 sent in
 * interop/v1/captures/session.jsonl, decrypted offline with the recorded identities; `sha256`
 * and `len` describe the decompressed payload as python3-lz4 decompressed it.
 */
const ZT_BLOCKS: { line: number; verb: string; len: number; sha256: string; block: string }[] = [
  {
    line: 35,
    verb: "NETWORK_CONFIG_REQUEST",
    len: 289,
    sha256: "4eb3bb0416f2c6dd9bcb82c4c3c73e9d5fe8c05f7427f84f4637036f6160c015",
    block: [
      "da5b1c20a311fca1ca0107763d3001006c370a76656e6416003d310a702a005d630a6d616a16005d310a6d69",
      "6e16005d650a72657616004a310a6d726a006a3430300a6d63140020303814000b29006e3034300a6d742900",
      "1b6613002030307a000c3d00f60330310a6f3d6c696e75782f7838365f3634000100500000000000",
    ].join(""),
  },
  {
    line: 52,
    verb: "OK",
    len: 1336,
    sha256: "10f0587335f7a74fcc0bdf22616997073f1d8f8bb85474d66be67b38e06ca07a",
    block: [
      "fa070b0b539ee1b2d5ed7e5b1c20a311fca1ca04b1763d300100f20b370a6e7769643d356231633230613331",
      "316663613163610a74732a00f20131613230303666366137640a63746d641600010200873162373734300a72",
      "1300010200f703310a69643d626563636630386138390a74742200370a746c0e000202002c0a6613003c360a",
      "6d27003832300a4800020200ea0a6e3d6c61622d6e65740a6d74754600ce6166300a433d015c30075c300200",
      "7601a25c306f6a7d1900361b77400d0000020014013601000d000f02000712021b0063beccf08a89ff010002",
      "13000402009303fbca62630bdc5a9e1e0014ff1900020200af0466b873115c5c771bcb2000039f055677e7b9",
      "39f9c4b31f00039406d484adb788b8a0251f0001b700f4569636fba1a538d6ae24c604d146fa6d85f7fca972",
      "9a62b61943fdb980718ad1306f38c378db7cf4459a5b79082908d29296449da88b29421641ca923ac3b8ef0b",
      "76ac771cbc9830b79d738f0210ce350274ac2bea1b68d6c8b54bfef3d3fdbc690a434f4f3d570200c8000d50",
      "0108020061015c300303fd990051fca1ca99932d016103fc4ae081690b00062c00760102c6135c306311000a",
      "0200012e00014800f057015c3060f2cd7b08de366d05d05ad95034bd99fba5e140cf9d5029a4e1507b5c5c9d",
      "d274d8c72d01d67ca242d57daeaac8a2e0eba4dbce3b3e67ef1548635c6e57d52fbb340e049314724205be41",
      "36c831454670a1c5da272646afa941c570e458ca224ea9547e00500a52543d04960000020010180500020200",
      "4c0a493d06d4004f5c305806d70002315c3028440060635c30180a529602400a444e53bd02822e6578616d70",
      "6c6555000f0200d10109011635ea004d0a73736f9804011600f068653d30006d0ef0e1ba8b6ffc000004b100",
      "000000010060bb86fccb7de1f47b665be4a5ee257b8a5cef86e7017da3d453edbb1599274f6d481cdf666f9a",
      "126c5714f23adcc065e448e06697f16906e1a8c389af744ee608e79bf3e1b855cd257957f8096fc0f758502a",
      "b4c4d674ec60fce0331ed3455a00",
    ].join(""),
  },
  {
    line: 142,
    verb: "NETWORK_CREDENTIALS",
    len: 473,
    sha256: "64938e09a8552aadd7696874f05f85a5eecab6461ab9174b4c50194ed61dd567",
    block: [
      "450100070001006101a2006f6aa20f00311b77400800b00000015b1c20a311fca1ca0d00070200a302000000",
      "98bec71608ff0100031c00930332315dff1ec7e64f17000418009b04399beb5bc3598cb018009b05bd7ec69d",
      "ecf252ca1800940659f3680585fc93381800018800f351c62022bc2a4f31e70553d223592439ee576d641210",
      "ddf675754804ad0eb6bf240979fafc58546059036f7165c54e3c772ff41f5f094911a8fecc1017bbeaf5076b",
      "cc72224e5a003c98369c746d6f2f7dc1ed493944411f8057aeda937522c37bad0008f6000716010202005101",
      "000303fd8e0051fca1ca999305016103fc4ae081690b00012500610102c61300720b00030200011c00013600",
      "f056010060d28227a1016d44d053832b889862c16a8d83ae67c2b0c21f802439e6229283f3bf5f16180cb0c6",
      "399fd19227acd89e50324e984bd990043e9919f98cae05270028fda605ba00063e33eb1ec097e80aa32d6301",
      "5b74f368900f49d0b43a6ad4610000",
    ].join(""),
  },
  {
    line: 159,
    verb: "MULTICAST_LIKE",
    len: 126,
    sha256: "551bbe2bc98d37f821afbad71e78efdb4cfcba34a5cd2edef4c5ca95fb73c987",
    block: [
      "f4035b1c20a311fca1ca01005e0000010000000012003d33330012001eff12003ae129a9360048fff08a8912",
      "0011ff01000d120050ffc6130063",
    ].join(""),
  },
  {
    line: 193,
    verb: "MULTICAST_FRAME",
    len: 97,
    sha256: "48ded7d6376e2b0afa6896a42611b9728b08f6a279f3d7c939b6c0b78d062734",
    block: [
      "f00b5b1c20a311fca1ca02000000213333ff0000010000000086dd60070030203aff070008020010ff2a0002",
      "020010012e004087004d770f00a0fc4ae08169beccf08a890e00a000010e01102af03080c5",
    ].join(""),
  },
];

const INPUTS = vectorInputs();
const MAX_PACKET_PAYLOAD = 10024 - 28;

/**
 * Independent strict walk of a block: checks the LZ4 end-of-block rules (last sequence is
 * literals only; for inputs >= 13 bytes the last 5 bytes are literals and the last match starts
 * >= 12 bytes before the end) and returns the decoded length.
 */
function checkBlockRules(block: Uint8Array, inputLen: number): void {
  let ip = 0;
  let op = 0;
  let lastMatchStart = -1;
  let lastLiteralRun = 0;
  for (;;) {
    const token = block[ip++];
    let lit = token >> 4;
    if (lit === 15) { for (let b = 255; b === 255;) lit += b = block[ip++]; }
    ip += lit;
    op += lit;
    lastLiteralRun = lit;
    if (ip === block.length) break;
    assert.ok(ip < block.length - 2, "block ends inside a sequence");
    ip += 2;
    let ml = (token & 15) + 4;
    if ((token & 15) === 15) { for (let b = 255; b === 255;) ml += b = block[ip++]; }
    lastMatchStart = op;
    op += ml;
  }
  assert.equal(op, inputLen);
  if (inputLen >= 13) {
    assert.ok(lastLiteralRun >= 5, `last literal run ${lastLiteralRun} < 5`);
    if (lastMatchStart >= 0) assert.ok(inputLen - lastMatchStart >= 12, "late last match");
  } else {
    assert.equal(lastMatchStart, -1, "inputs under 13 bytes must be all literals");
  }
}

Deno.test("lz4: decompresses python3-lz4 blocks to the original inputs", () => {
  for (const [name, input] of Object.entries(INPUTS)) {
    const block = fromHex(PY_BLOCKS[name]);
    const out = lz4Decompress(block, input.length);
    assert.ok(out, name);
    assert.deepEqual(out, input, name);
    assert.deepEqual(lz4Decompress(block, MAX_PACKET_PAYLOAD), input, name);
    if (input.length > 0) assert.equal(lz4Decompress(block, input.length - 1), undefined, name);
  }
  // The repetitive vectors really exercise matches (python compressed them well).
  assert.ok(PY_BLOCKS.long9000.length / 2 < 3100);
  assert.ok(PY_BLOCKS.zeros.length / 2 < 20);
});

Deno.test("lz4: decompresses ZeroTier 1.14 payloads and recompresses them byte-identically", () => {
  for (const v of ZT_BLOCKS) {
    const block = fromHex(v.block);
    const out = lz4Decompress(block, MAX_PACKET_PAYLOAD);
    assert.ok(out, `line ${v.line}`);
    assert.equal(out.length, v.len);
    assert.equal(toHex(sha256(out)), v.sha256, `line ${v.line} ${v.verb}`);
    // Same hash-table greedy matcher as the reference's fast mode: identical output.
    assert.equal(toHex(lz4Compress(out)), v.block, `line ${v.line} ${v.verb}`);
  }
});

Deno.test("lz4: decompresses a block embedded in a larger buffer", () => {
  const input = INPUTS.text;
  const block = fromHex(PY_BLOCKS.text);
  const buf = concat([Uint8Array.of(0x99, 0x98, 0x97), block, Uint8Array.of(1, 2)]);
  assert.deepEqual(lz4Decompress(buf, 5000, 3, 3 + block.length), input);
  assert.equal(lz4Decompress(buf, 5000, 3, 3 + block.length + 1), undefined);
});

Deno.test("lz4: our blocks round-trip and obey the end-of-block rules", () => {
  for (const [name, input] of Object.entries(INPUTS)) {
    const block = lz4Compress(input);
    checkBlockRules(block, input.length);
    assert.deepEqual(lz4Decompress(block, input.length), input, name);
  }
  // The repetitive vectors really compress.
  assert.ok(lz4Compress(INPUTS.long9000).length < 3100);
  assert.ok(lz4Compress(INPUTS.zeros).length < 20);
  assert.ok(lz4Compress(INPUTS.text).length < 900);
  // Incompressible input expands by at most the format's worst case.
  const rnd = INPUTS.random;
  assert.ok(lz4Compress(rnd).length <= rnd.length + Math.floor(rnd.length / 255) + 16);
});

Deno.test("lz4: compresses a subrange and ignores state from earlier calls", () => {
  const input = INPUTS.long9000;
  const a = lz4Compress(input, 100, 5100);
  assert.deepEqual(lz4Decompress(a, 5000), input.subarray(100, 5100));
  // Same call again (the hash table now holds entries from the previous calls) gives the same.
  lz4Compress(INPUTS.records);
  assert.deepEqual(lz4Compress(input, 100, 5100), a);
});

Deno.test("lz4: round-trips random and structured inputs", () => {
  const rng = new Rng(0xc0ffee);
  for (let i = 0; i < 400; i++) {
    const len = i < 40 ? i : rng.next() % 12000;
    const kind = i % 4;
    const b = new Uint8Array(len);
    if (kind === 0) {
      for (let j = 0; j < len; j++) b[j] = rng.byte();
    } else if (kind === 1) {
      for (let j = 0; j < len; j++) b[j] = rng.byte() & 3; // low entropy
    } else if (kind === 2) {
      // copies of earlier spans at random distances, some beyond 64 KiB-reach of small buffers
      for (let j = 0; j < len;) {
        if (j > 8 && rng.next() % 2 === 0) {
          const from = rng.next() % j;
          const n = Math.min(len - j, 1 + (rng.next() % 300));
          for (let k = 0; k < n; k++, j++) b[j] = b[from + k];
        } else {
          b[j++] = rng.byte();
        }
      }
    } else {
      const period = 1 + (rng.next() % 20);
      for (let j = 0; j < len; j++) b[j] = j < period ? rng.byte() : b[j - period];
    }
    const block = lz4Compress(b);
    checkBlockRules(block, len);
    assert.deepEqual(lz4Decompress(block, len), b, `case ${i} kind ${kind} len ${len}`);
  }
  // Inputs larger than the 64 KiB match window.
  const big = new Uint8Array(200000);
  const chunk = new Rng(9).bytes(1000);
  for (let j = 0; j < big.length; j += 1000) big.set(chunk, j);
  big.set(new Rng(10).bytes(70000), 50000);
  const block = lz4Compress(big);
  checkBlockRules(block, big.length);
  assert.deepEqual(lz4Decompress(block, big.length), big);
});

Deno.test("lz4: hand-built blocks decode exactly", () => {
  // "abcd" + match(offset 4, len 4) + "12345"
  const good = fromHex("40616263640400" + "503132333435");
  assert.deepEqual(lz4Decompress(good, 100), enc.encode("abcdabcd12345"));
  // overlapping match: "a" + match(offset 1, len 19) + 5 literals
  const run = fromHex("1f610100" + "00" + "506161616161");
  assert.deepEqual(lz4Decompress(run, 100), new Uint8Array(25).fill(0x61));
  // literal length 15 + 0 extension byte, 15 literals, end
  const lit15 = concat([Uint8Array.of(0xf0, 0x00), new Uint8Array(15).fill(7)]);
  assert.deepEqual(lz4Decompress(lit15, 15), new Uint8Array(15).fill(7));
  // a single zero token is the empty block
  assert.deepEqual(lz4Decompress(Uint8Array.of(0), 0), new Uint8Array(0));
});

Deno.test("lz4: malformed blocks return undefined", () => {
  const bad: [string, Uint8Array, number][] = [
    ["empty input", new Uint8Array(0), 100],
    ["offset 0", fromHex("40616263640000503132333435"), 100],
    ["offset beyond output", fromHex("40616263640500503132333435"), 100],
    ["ends after offset (no final literals)", fromHex("40616263640400"), 100],
    ["ends inside offset", fromHex("406162636404"), 100],
    ["ends inside literals", fromHex("5061626364"), 100],
    ["missing literal length extension", fromHex("f0"), 100],
    ["literal extension runs off the end", fromHex("f0ffffff"), 100000],
    ["missing match length extension", fromHex("4f6162636404"), 100],
    ["output over maxOutput", fromHex("40616263640400503132333435"), 12],
  ];
  // literal length overflow: 15 + 100*255 declared, far over the packet bound
  bad.push([
    "literal length overflow",
    concat([
      Uint8Array.of(0xf0),
      new Uint8Array(100).fill(0xff),
      Uint8Array.of(0),
      enc.encode("x"),
    ]),
    MAX_PACKET_PAYLOAD,
  ]);
  // match length overflow: 19 + 50*255 bytes of match output
  const mlOverflow = concat([
    fromHex("4f616263640400"),
    new Uint8Array(50).fill(0xff),
    Uint8Array.of(0),
    fromHex("503132333435"),
  ]);
  bad.push(["match length overflow", mlOverflow, MAX_PACKET_PAYLOAD]);
  for (const [what, block, max] of bad) assert.equal(lz4Decompress(block, max), undefined, what);
  // ...while the same match-overflow block is fine when the bound allows it (positive control)
  assert.equal(lz4Decompress(mlOverflow, 20000)?.length, 4 + 19 + 50 * 255 + 5);
  // bad arguments
  const good = fromHex("40616263640400503132333435");
  assert.equal(lz4Decompress(good, 100, 5, 2), undefined);
  assert.equal(lz4Decompress(good, 100, -1), undefined);
  assert.equal(lz4Decompress(good, 100, 0, good.length + 1), undefined);
  assert.equal(lz4Decompress(good, -5), undefined);
  assert.equal(lz4Decompress(good, NaN), undefined);
});

Deno.test("lz4: truncated python blocks never decode to the full input", () => {
  for (const [name, input] of Object.entries(INPUTS)) {
    const block = fromHex(PY_BLOCKS[name]);
    assert.equal(lz4Decompress(block, MAX_PACKET_PAYLOAD, 0, block.length - 1), undefined, name);
    for (let cut = 0; cut < block.length; cut++) {
      const out = lz4Decompress(block.slice(0, cut), MAX_PACKET_PAYLOAD);
      // a cut right after a literal run is a valid shorter block; anything else must fail
      if (out !== undefined) {
        assert.ok(out.length < input.length, `${name} cut ${cut}`);
        assert.deepEqual(out, input.subarray(0, out.length), `${name} cut ${cut}`);
      }
    }
  }
});

Deno.test("lz4: random garbage and mutated blocks never throw or exceed maxOutput", () => {
  const rng = new Rng(12345);
  let accepted = 0;
  for (let i = 0; i < 10000; i++) {
    const garbage = rng.bytes(rng.next() % 80);
    const max = rng.next() % 2000;
    const out = lz4Decompress(garbage, max);
    if (out !== undefined) {
      accepted++;
      assert.ok(out.length <= max);
    }
  }
  assert.ok(accepted < 10000);
  const blocks = Object.values(PY_BLOCKS).map((h) => fromHex(h)).filter((b) => b.length > 8);
  for (let i = 0; i < 3000; i++) {
    const b = blocks[i % blocks.length].slice();
    for (let k = 1 + (rng.next() % 4); k > 0; k--) b[rng.next() % b.length] = rng.byte();
    const max = 1 + (rng.next() % 10000);
    const out = lz4Decompress(b, max);
    if (out !== undefined) assert.ok(out.length <= max);
  }
});
