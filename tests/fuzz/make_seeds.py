#!/usr/bin/env python3
"""Writes the seeds of the text, array and command-line harnesses into
tests/fuzz/corpus/<harness>/ (the binary seeds of model files and
checkpoints come from make_corpus.c: scripts/fuzz --seeds). Python's
standard library only, so it runs where numpy is not installed: .npy
headers and zip archives are written as numpy.save and numpy.savez write
them. Usage: python3 tests/fuzz/make_seeds.py"""
import io
import os
import struct
import zipfile
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus")


def put(harness, name, data):
    d = os.path.join(CORPUS, harness)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


# ---- fuzz_csv: byte 0 header | delimiter << 2 | real << 5 | decimal comma << 6,
#      byte 1 label | reference target name "y" << 3 | reference feature names a, b << 4
#      | columns left out "a,-1" << 5
HDR_DETECT, HDR_NONE, HDR_FIRST = 0, 1, 2
D_DETECT, D_COMMA, D_TAB, D_SEMI, D_BLANK, D_PIPE = range(6)
L_DEFAULT, L_NONE, L_FIRST, L_LAST, L_SECOND, L_NEXT_TO_LAST, L_Y, L_LABEL = range(8)


def csv(name, text, header=HDR_DETECT, delim=D_DETECT, real=0, label=L_DEFAULT, comma=0, ref_y=0,
        ref_ab=0, ignore=0):
    put("fuzz_csv", name,
        bytes([header | delim << 2 | real << 5 | comma << 6,
               label | ref_y << 3 | ref_ab << 4 | ignore << 5]) + text)


csv("first.csv", b"0,1.5,2\n1,0.5,-1\n2,3,4\n")
csv("bom.csv", b"\xef\xbb\xbf1,2,3\n0,4,5\n")
csv("bad_value.csv", b"1,nan,3\n0,4,x\n")
csv("last_header.csv", b"a,b,label\r\n1,2,0\r\n3,4,1\r\n", header=HDR_FIRST, label=L_LAST)
csv("regression.csv", b"0.5, 1e-3 ,2\n-1.25,2,3\n\n\n", real=1)
csv("regression-empty-file", b"", header=HDR_FIRST, real=1)
csv("text_labels.csv", b"species,len,width\nsetosa,5.1,3.5\nvirginica,6.3,3.3\nsetosa,4.9,3\n")
csv("quoted.csv", b'"name, with comma",x,y\n"a ""b""",1,2\n"c\nd",3,4\n"a ""b""",5,6\n')
csv("semicolon.csv", b"y;a;b\n1;0,5;2\n0;1,5;3\n")
csv("decimal_comma.csv", b"a;b;y\n1,5;-2,0;1,25\n2,5e-1;1.234,5;0\n", real=1, comma=1)
csv("model_target.csv", b"a,b,y,c\n1,2,0,3\n4,5,1,6\n", ref_y=1)
csv("model_names.csv", b"b,y,a\n1,0,2\n3,1,4\n", ref_y=1, ref_ab=1)
csv("ignored.csv", b"a,b,y,id\n1,2,0,7\n4,5,1,8\n", ignore=1)
csv("blanks.txt", b"1  0.5   2\n0 1.5 3\n", delim=D_BLANK)
csv("pipe.csv", b"1|2|3\n0|4|5\n", delim=D_PIPE)
csv("missing.csv", b"y,a\n1,NA\n0,?\n", label=L_Y)
csv("no_target.csv", b"1,2,3\n4,5,6\n", label=L_NONE)
csv("by_name.csv", b"a,label,b\n1,x,2\n3,y,4\n", label=L_LABEL)
csv("mac.csv", b"1,2\r0,3\r1,4\r")
csv("nul.csv", b"1,2,3\n0,4\x00,5\n")
csv("utf16.csv", b"\xff\xfe1\x00,\x002\x00\n\x00")
# TSV: the reader sniffs tabs (tsv: specs and .tsv files give them)
csv("tabs.tsv", b"label\tx1\tx2\ncat\t0.5\t1\ndog\t1.5\t-2\ncat\t2\t3\n", delim=D_TAB)
csv("tabs_sniffed.tsv", b"1\t0.5\t1\n0\t1.5\t-2\n1\t2\t3\n")
csv("tabs_quoted.tsv", b'"a\tb"\tx\n"1"\t2\n"0"\t3\n', header=HDR_FIRST, delim=D_TAB)

# ---- fuzz_svmlight: byte 0 based | real << 2 | n_features << 3
def svm(name, text, based=0, real=0, nf=0):
    put("fuzz_svmlight", name, bytes([based | real << 2 | nf << 3]) + text)


svm("one_based.svm", b"1 1:0.5 3:2\n-1 2:1\n+1 1:1 2:1 3:1\n")
svm("zero_based.svm", b"0 0:1 2:3\n1 1:2\n")
svm("comments_qid.svm", b"# header comment\n1 qid:3 1:1 # row\n\n0 qid:3 2:2\n")
svm("regression.svm", b"0.25 1:1\n-3.5 2:2e-3\n", real=1)
svm("padded.svm", b"1 1:1\n0 2:1\n", nf=8)
svm("multilabel.svm", b"1,2 1:1\n0 2:1\n")
svm("unsorted.svm", b"1 3:1 1:1\n")
svm("crlf.svm", b"1 1:1\r\n0 2:1\r\n")
svm("nul.svm", b"1 1:1\n0 2:2\x00 3:1\n")


# ---- fuzz_npy: byte 0 features | targets << 1 | real << 2 | misalign << 3
def npy(descr, shape, data, fortran=False, version=1):
    shape_text = "(%s)" % "".join("%d, " % s for s in shape) if len(shape) == 1 else \
        "(%s)" % ", ".join(str(s) for s in shape)
    header = "{'descr': '%s', 'fortran_order': %s, 'shape': %s, }" % (
        descr, "True" if fortran else "False", shape_text)
    pre = 10 if version == 1 else 12
    pad = (64 - (pre + len(header) + 1) % 64) % 64
    header = (header + " " * pad + "\n").encode("latin1")
    size = struct.pack("<H", len(header)) if version == 1 else struct.pack("<I", len(header))
    return b"\x93NUMPY" + bytes([version, 0]) + size + header + data


def pack(fmt, values):
    return b"".join(struct.pack(fmt, v) for v in values)


X = [0.5, -1.0, 2.0, 3.5, 1.0, 0.0]
npy_seeds = {
    "f4_c.npy": (3, npy("<f4", (3, 2), pack("<f", X))),
    "f8_fortran.npy": (3, npy("<f8", (3, 2), pack("<d", X), fortran=True)),
    "f4_misaligned.npy": (1 | 8, npy("<f4", (2, 3), pack("<f", X))),
    "f4_3d.npy": (1, npy("<f4", (1, 2, 3), pack("<f", X))),
    "i2_big_endian.npy": (3, npy(">i2", (3, 2), pack(">h", [1, -2, 3, 4, 5, -6]))),
    "u1.npy": (3, npy("|u1", (6,), bytes([3, 7, 9, 3, 7, 9]))),
    "bool.npy": (2, npy("|b1", (4,), bytes([0, 1, 1, 0]))),
    "i8_targets.npy": (2, npy("<i8", (4, 1), pack("<q", [-1, 1, 1, -1]))),
    "f8_regression.npy": (2 | 4, npy("<f8", (3,), pack("<d", [0.5, -2.25, 1e3]))),
    "str_labels.npy": (2, npy("<U9", (3,), "setosa\0\0\0virginica".encode("utf-32-le")
                                  + "setosa\0\0\0".encode("utf-32-le"))),
    "bytes_labels.npy": (2, npy("|S3", (3,), b"cat" + b"dog" + b"cat")),
    "version2.npy": (3, npy("<f4", (2, 3), pack("<f", X), version=2)),
    "nan.npy": (1, npy("<f4", (2, 1), pack("<f", [1.0, float("nan")]))),
    "scalar.npy": (3, npy("<f4", (), pack("<f", [1.0]))),
}
for name, (mode, data) in npy_seeds.items():
    put("fuzz_npy", name, bytes([mode]) + data)
for name in ("X_f4.npy", "y_pm1.npy"):  # written by numpy itself (tests/data)
    with open(os.path.join(HERE, "..", "data", name), "rb") as f:
        put("fuzz_npy", "numpy_" + name, bytes([3]) + f.read())


# ---- fuzz_npz: byte 0 real
def npz(name, members, compressed=False, zip64=False, real=0):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for member, data in members:
            info = zipfile.ZipInfo(member)
            info.compress_type = zipfile.ZIP_DEFLATED if compressed else zipfile.ZIP_STORED
            with z.open(info, "w", force_zip64=zip64) as f:
                f.write(data)
    put("fuzz_npz", name, bytes([real]) + buf.getvalue())


Xn = npy("<f4", (3, 2), pack("<f", X))
yn = npy("<i8", (3,), pack("<q", [3, 7, 9]))
npz("stored.npz", [("X.npy", Xn), ("y.npy", yn)])
npz("deflated.npz", [("X.npy", Xn), ("y.npy", yn)], compressed=True)
npz("zip64.npz", [("X.npy", Xn), ("y.npy", yn)], zip64=True)
npz("lower_x_upper_y.npz", [("x.npy", Xn), ("Y.npy", yn)])
npz("features_only.npz", [("X.npy", Xn)])
npz("no_x.npz", [("a.npy", Xn), ("b.npy", yn)])
npz("regression.npz", [("X.npy", Xn), ("y.npy", npy("<f8", (3,), pack("<d", [0.5, 1, -2])))],
    real=1)
npz("str_labels.npz", [("X.npy", Xn), ("y.npy", npy("|S1", (3,), b"abA"))], compressed=True)
for name in ("labels379.npz", "strings_fortran.npz"):  # written by numpy itself
    with open(os.path.join(HERE, "..", "data", name), "rb") as f:
        put("fuzz_npz", "numpy_" + name, b"\x00" + f.read())

# ---- fuzz_cli_options: byte 0 the command (commands.c's order), then argv
TRAIN, EVAL, PLAN, BENCH, INFO = range(5)


def cli(name, cmd, *args):
    put("fuzz_cli_options", name, bytes([cmd]) + b"\x00".join(a.encode() for a in args))


cli("train", TRAIN, "--data", "synth:400,5,3", "--model", "softmax", "--epochs", "2", "--lr",
    "0.1", "--batch", "fastest", "--max-batch", "none", "--mem-limit", "50%", "--quiet")
cli("train_schedule", TRAIN, "--data=x.csv", "--model=mlp:8,4", "--optim", "adamw",
    "--schedule", "cosine", "--cosine-period", "3", "--warmup", "0.5", "--lr-scaling",
    "sqrt", "--lr-ref-batch", "256", "--mem-reserve", "256MiB", "--on-nan", "skip")
cli("train_outputs", TRAIN, "--data", "-", "--resume", "r.ckpt", "--save", "s.ckpt",
    "--checkpoint-every", "2", "--summary", "-", "--log", "l.jsonl", "--seed", "18446744073709551615")
cli("eval", EVAL, "--model-file", "m.ckpt", "--data", "d.csv", "--test", "t.csv", "-h")
cli("plan", PLAN, "--data", "synth:10,2,2", "--model", "linear", "--mem-limit", "1.5GB",
    "--mem-headroom", "0.1", "--average", "10", "--clip-norm", "1e-3", "--json", "-")
cli("bench", BENCH, "--data", "fashion-mnist", "--batches", "64,256,1024,64", "--steps", "5",
    "--noise-batches", "32,512", "--noise-samples", "0", "--csv", "-", "--plot", "p.png")
cli("bench_sweep", BENCH, "--data", "d", "--batches", "sweep", "--warmup-steps", "100000",
    "--epochs", "3", "--target-acc", "0.9")
cli("typo", TRAIN, "--data", "d", "--modle", "softmax", "--lr", "-1")
cli("info", INFO, "--help")


# ---- dictionaries: the tokens each grammar is made of
def dictionary(harness, tokens, comment):
    with open(os.path.join(HERE, harness + ".dict"), "w") as f:
        f.write("# %s (written by make_seeds.py)\n" % comment)
        for t in tokens:
            t = t.encode("latin1") if isinstance(t, str) else t
            f.write('"%s"\n' % "".join(
                chr(c) if 32 <= c < 127 and c not in b'"\\' else "\\x%02X" % c for c in t))


import re  # noqa: E402
with open(os.path.join(HERE, "..", "..", "src", "cli", "opttable.h")) as f:
    names = sorted(set(re.findall(r'"(--[a-z0-9-]+)"', f.read())))
dictionary("fuzz_cli_options",
           names + [n + "=" for n in names] +
           ["-h", "auto", "fastest", "none", "sweep", "50%", "100%", "0%", "512MiB", "2GB",
            "1KiB", "1e-3", "-1", "nan", "inf", "0x10", "18446744073709551616", "cpu",
            "cuda:0", "sgd", "adamw", "cosine", "skip", "sqrt", "64,256", ",", "on", "off"],
           "options of the option table (src/cli/opttable.h) and values of their kinds")
dictionary("fuzz_npy",
           [b"\x93NUMPY", "'descr': ", "'fortran_order': ", "'shape': ", "True", "False",
            "<f4", "<f8", ">f4", "|u1", "<i8", "|b1", "<U", "|S", "(", ")", ", ", "}"],
           ".npy header tokens")
