/*
 * test_tri_image.c - tri_image_clean(): residents' photos come out with no
 * metadata and the same pixels, and broken or suspicious files are refused
 * with a French message.
 *
 * Every image is made here with libjpeg / libpng (EXIF with GPS and an
 * orientation, XMP, comments, PNG tEXt / zTXt / eXIf / tIME), so the test
 * needs no file beside it. "Same pixels" is checked by decoding both.
 */
#include "harness.h"

#include <stdlib.h>

#include <jpeglib.h>
#include <png.h>
#include <zlib.h>

#include "triage/tri.h"

/* ------------------------------------------------------------------ */
/* Builders                                                            */
/* ------------------------------------------------------------------ */

struct bytes {
    unsigned char *p;
    size_t n;
};

/* EXIF byte order of the next make_exif(): "II" (false) or "MM". */
static bool exif_be;

static void
put16(unsigned char *p, unsigned v)
{
    p[exif_be ? 1 : 0] = (unsigned char)(v & 0xff);
    p[exif_be ? 0 : 1] = (unsigned char)(v >> 8);
}

static void
put32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[exif_be ? 3 - i : i] = (unsigned char)(v >> (8 * i));
}

/* Latitude 47° 12' 34.56" as three rationals: bytes a leak would show. */
static const uint32_t GPS_LAT[6] = {47, 1, 12, 1, 3456, 100};

/*
 * A little-endian EXIF payload ("Exif\0\0" + TIFF): IFD0 with Make
 * « Marque-Secrete », Orientation and a GPS IFD pointer; the GPS IFD has
 * GPSLatitudeRef "N" and GPSLatitude. Returns its length in buf (>= 200).
 */
static size_t
make_exif(unsigned char *buf, int orientation)
{
    unsigned char *t = buf + 6;
    size_t ifd0 = 8, n0 = 3, gps, ng = 2, data, lat;

    memset(buf, 0, 200);
    memcpy(buf, "Exif\0\0", 6);
    memcpy(t, exif_be ? "MM\0*" : "II*\0", 4);
    put32(t + 4, (uint32_t)ifd0);
    put16(t + ifd0, (unsigned)n0);
    gps = ifd0 + 2 + 12 * n0 + 4;
    data = gps + 2 + 12 * ng + 4;
    /* Make (ASCII, 15 bytes incl. NUL) stored at `data`. */
    put16(t + ifd0 + 2, 0x010F);
    put16(t + ifd0 + 4, 2);
    put32(t + ifd0 + 6, 15);
    put32(t + ifd0 + 10, (uint32_t)data);
    memcpy(t + data, "Marque-Secrete", 15);
    /* Orientation (SHORT). */
    put16(t + ifd0 + 14, 0x0112);
    put16(t + ifd0 + 16, 3);
    put32(t + ifd0 + 18, 1);
    put16(t + ifd0 + 22, (unsigned)orientation);
    /* GPS IFD pointer. */
    put16(t + ifd0 + 26, 0x8825);
    put16(t + ifd0 + 28, 4);
    put32(t + ifd0 + 30, 1);
    put32(t + ifd0 + 34, (uint32_t)gps);
    /* GPS IFD: LatitudeRef "N", Latitude 3 RATIONAL at `lat`. */
    lat = data + 16;
    put16(t + gps, (unsigned)ng);
    put16(t + gps + 2, 0x0001);
    put16(t + gps + 4, 2);
    put32(t + gps + 6, 2);
    memcpy(t + gps + 10, "N\0", 2);
    put16(t + gps + 14, 0x0002);
    put16(t + gps + 16, 5);
    put32(t + gps + 18, 3);
    put32(t + gps + 22, (uint32_t)lat);
    for (int i = 0; i < 6; i++)
        put32(t + lat + 4 * (size_t)i, GPS_LAT[i]);
    return 6 + lat + 24;
}

static const char XMP[] =
    "http://ns.adobe.com/xap/1.0/\0<x:xmpmeta xmlns:x='adobe:ns:meta/'>"
    "<rdf:Description exif:GPSLatitude='47,12.576N' "
    "dc:creator='Jeanne Martin'/></x:xmpmeta>";

struct jopts {
    int w, h;
    int comps; /* 3 (YCbCr) or 1 (grey) */
    bool h1v1; /* 4:4:4 instead of 4:2:0 */
    bool progressive;
    int orientation; /* 0 = no EXIF */
    bool xmp, comment;
    int many_scans; /* 1: a legal progressive file with ~190 scans */
};

/* A deterministic picture: gradients and a checker, so that any
 * misplaced block shows. */
static unsigned char
pix(int x, int y, int c)
{
    return (
        unsigned char)((x * 3 + y * 5 + c * 70 + ((x / 8 + y / 8) & 1) * 60) &
                       0xff);
}

static struct bytes
make_jpeg(const struct jopts *o)
{
    struct jpeg_compress_struct ci;
    struct jpeg_error_mgr je;
    unsigned char *mem = NULL;
    unsigned long memn = 0;
    unsigned char *row = malloc((size_t)o->w * (size_t)o->comps);
    struct bytes b;
    jpeg_scan_info *scans = NULL;

    ci.err = jpeg_std_error(&je);
    jpeg_create_compress(&ci);
    jpeg_mem_dest(&ci, &mem, &memn);
    ci.image_width = (JDIMENSION)o->w;
    ci.image_height = (JDIMENSION)o->h;
    ci.input_components = o->comps;
    ci.in_color_space = o->comps == 3 ? JCS_RGB : JCS_GRAYSCALE;
    jpeg_set_defaults(&ci);
    jpeg_set_quality(&ci, 90, TRUE);
    if (o->h1v1 && o->comps == 3)
        ci.comp_info[0].h_samp_factor = ci.comp_info[0].v_samp_factor = 1;
    if (o->progressive)
        jpeg_simple_progression(&ci);
    if (o->many_scans) {
        /* One DC scan, then every AC coefficient of every component in
         * its own scan: 1 + 3 * 63 scans, a legal file. */
        int ns = 1 + 3 * 63, k = 0;
        scans = calloc((size_t)ns, sizeof(*scans));
        scans[k].comps_in_scan = 3;
        for (int c = 0; c < 3; c++)
            scans[k].component_index[c] = c;
        k++;
        for (int c = 0; c < 3; c++) {
            for (int s = 1; s < 64; s++, k++) {
                scans[k].comps_in_scan = 1;
                scans[k].component_index[0] = c;
                scans[k].Ss = s;
                scans[k].Se = s;
            }
        }
        ci.scan_info = scans;
        ci.num_scans = ns;
    }
    jpeg_start_compress(&ci, TRUE);
    if (o->orientation) {
        unsigned char ex[256];
        size_t exn = make_exif(ex, o->orientation);
        jpeg_write_marker(&ci, JPEG_APP0 + 1, ex, (unsigned)exn);
    }
    if (o->xmp)
        jpeg_write_marker(&ci, JPEG_APP0 + 1, (const JOCTET *)XMP,
                          sizeof(XMP) - 1);
    if (o->comment)
        jpeg_write_marker(&ci, JPEG_COM,
                          (const JOCTET *)"Photo de Jeanne Martin", 22);
    while (ci.next_scanline < ci.image_height) {
        int y = (int)ci.next_scanline;
        for (int x = 0; x < o->w; x++)
            for (int c = 0; c < o->comps; c++)
                row[x * o->comps + c] = pix(x, y, c);
        JSAMPROW r = row;
        jpeg_write_scanlines(&ci, &r, 1);
    }
    jpeg_finish_compress(&ci);
    jpeg_destroy_compress(&ci);
    free(row);
    free(scans);
    b.p = mem;
    b.n = memn;
    return b;
}

struct image {
    int w, h, comps;
    unsigned char *px; /* malloc */
};

/* Decode a JPEG to RGB or grey; returns false on any libjpeg error. */
static jmp_buf dec_jb;
static void
dec_error(j_common_ptr ci)
{
    (void)ci;
    longjmp(dec_jb, 1);
}

static bool
decode_jpeg(const void *p, size_t n, struct image *im)
{
    static struct jpeg_decompress_struct ci;
    static struct jpeg_error_mgr je;

    memset(im, 0, sizeof(*im));
    ci.err = jpeg_std_error(&je);
    je.error_exit = dec_error;
    jpeg_create_decompress(&ci);
    if (setjmp(dec_jb)) {
        jpeg_destroy_decompress(&ci);
        free(im->px);
        im->px = NULL;
        return false;
    }
    jpeg_mem_src(&ci, p, (unsigned long)n);
    jpeg_read_header(&ci, TRUE);
    ci.dct_method = JDCT_ISLOW;
    jpeg_start_decompress(&ci);
    im->w = (int)ci.output_width;
    im->h = (int)ci.output_height;
    im->comps = ci.output_components;
    im->px = malloc((size_t)im->w * (size_t)im->h * (size_t)im->comps);
    while (ci.output_scanline < ci.output_height) {
        JSAMPROW r = im->px + (size_t)ci.output_scanline * (size_t)im->w *
                                  (size_t)im->comps;
        jpeg_read_scanlines(&ci, &r, 1);
    }
    jpeg_finish_decompress(&ci);
    jpeg_destroy_decompress(&ci);
    return true;
}

static bool
has_bytes(const void *hay, size_t n, const void *needle, size_t k)
{
    const unsigned char *h = hay;

    for (size_t i = 0; k && i + k <= n; i++)
        if (memcmp(h + i, needle, k) == 0)
            return true;
    return false;
}

/* Marker segments before SOS: only APP0 (JFIF), DQT, SOFn, DHT, DRI. */
static bool
jpeg_markers_clean(const unsigned char *p, size_t n)
{
    size_t i = 2;

    if (n < 4 || p[0] != 0xFF || p[1] != 0xD8)
        return false;
    while (i + 4 <= n) {
        unsigned m, len;
        if (p[i] != 0xFF)
            return false;
        m = p[i + 1];
        len = (unsigned)p[i + 2] << 8 | p[i + 3];
        if (m == 0xDA)
            return true;
        if (m == 0xE0) {
            if (len < 7 || memcmp(p + i + 4, "JFIF\0", 5) != 0)
                return false;
        } else if (!(m == 0xDB || m == 0xC4 || m == 0xDD ||
                     (m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 &&
                      m != 0xCC))) {
            fprintf(stderr, "  marker FF%02X left\n", m);
            return false;
        }
        i += 2 + len;
    }
    return false;
}

/* The metadata planted by the builders, none of which may survive. */
static void
check_no_metadata(const void *p, size_t n)
{
    unsigned char lat[24], latbe[24];
    bool be = exif_be;

    exif_be = false;
    for (int i = 0; i < 6; i++)
        put32(lat + 4 * i, GPS_LAT[i]);
    exif_be = true;
    for (int i = 0; i < 6; i++)
        put32(latbe + 4 * i, GPS_LAT[i]);
    exif_be = be;
    CHECK(!has_bytes(p, n, latbe, sizeof(latbe)));
    CHECK(!has_bytes(p, n, "Exif", 4));
    CHECK(!has_bytes(p, n, "Marque-Secrete", 14));
    CHECK(!has_bytes(p, n, lat, sizeof(lat)));
    CHECK(!has_bytes(p, n, "ns.adobe.com", 12));
    CHECK(!has_bytes(p, n, "Jeanne", 6));
    CHECK(!has_bytes(p, n, "GPS", 3));
}

static int
clean(const struct bytes *in, const void **out, size_t *out_n,
      const char **ctype, struct gu_err *err, struct gu_arena *a)
{
    gu_err_clear(err);
    return tri_image_clean(a, in->p, in->n, out, out_n, ctype, err);
}

/* ------------------------------------------------------------------ */
/* JPEG                                                                */
/* ------------------------------------------------------------------ */

static void
check_jpeg_same(const struct jopts *o)
{
    struct gu_arena *a = gu_arena_new(0);
    struct bytes in = make_jpeg(o);
    const void *out;
    size_t out_n;
    const char *ct;
    struct gu_err err;
    struct image i1, i2;

    CHECK(has_bytes(in.p, in.n, "Exif", 4) == (o->orientation != 0));
    CHECK_EQ(clean(&in, &out, &out_n, &ct, &err, a), 0);
    CHECK_STR(ct, "image/jpeg");
    if (out) {
        check_no_metadata(out, out_n);
        CHECK(jpeg_markers_clean(out, out_n));
        CHECK(decode_jpeg(in.p, in.n, &i1));
        CHECK(decode_jpeg(out, out_n, &i2));
        CHECK_EQ(i1.w, i2.w);
        CHECK_EQ(i1.h, i2.h);
        CHECK_EQ(i1.comps, i2.comps);
        if (i1.px && i2.px && i1.w == i2.w && i1.h == i2.h)
            CHECK(memcmp(i1.px, i2.px,
                         (size_t)i1.w * (size_t)i1.h * (size_t)i1.comps) == 0);
        free(i1.px);
        free(i2.px);
    }
    free(in.p);
    gu_arena_free(a);
}

static void
test_jpeg_exif_gps_xmp_comment_removed(void)
{
    struct jopts o = {.w = 96,
                      .h = 64,
                      .comps = 3,
                      .orientation = 1,
                      .xmp = true,
                      .comment = true};
    check_jpeg_same(&o);
}

static void
test_jpeg_odd_size_progressive_grey(void)
{
    struct jopts o = {.w = 77,
                      .h = 51,
                      .comps = 3,
                      .progressive = true,
                      .orientation = 1,
                      .xmp = true,
                      .comment = true};
    struct jopts g = {
        .w = 33, .h = 20, .comps = 1, .orientation = 1, .comment = true};
    struct jopts h = {.w = 40, .h = 24, .comps = 3, .h1v1 = true};

    check_jpeg_same(&o);
    check_jpeg_same(&g);
    check_jpeg_same(&h);
}

/* Source pixel of output (X, Y) for an EXIF orientation (see tri_image.c). */
static void
src_of(int o, int X, int Y, int W, int H, int *x, int *y)
{
    switch (o) {
    case 2:
        *x = W - 1 - X;
        *y = Y;
        break;
    case 3:
        *x = W - 1 - X;
        *y = H - 1 - Y;
        break;
    case 4:
        *x = X;
        *y = H - 1 - Y;
        break;
    case 5:
        *x = Y;
        *y = X;
        break;
    case 6:
        *x = Y;
        *y = H - 1 - X;
        break;
    case 7:
        *x = W - 1 - Y;
        *y = H - 1 - X;
        break;
    case 8:
        *x = W - 1 - Y;
        *y = X;
        break;
    default:
        *x = X;
        *y = Y;
        break;
    }
}

/*
 * Orientation o applied losslessly: the output is the turned image (sizes
 * swapped for 5..8; a partial block on a mirrored edge trimmed), within
 * the rounding of the integer IDCT and of chroma upsampling.
 */
static void
check_turn(int o, int w, int h, bool h1v1)
{
    struct gu_arena *a = gu_arena_new(0);
    struct jopts jo = {
        .w = w, .h = h, .comps = 3, .h1v1 = h1v1, .orientation = o};
    struct bytes in = make_jpeg(&jo);
    const void *out;
    size_t out_n;
    const char *ct;
    struct gu_err err;
    struct image i1, i2;
    int mcu = h1v1 ? 8 : 16;
    bool tr = o >= 5, mxx = o == 2 || o == 3 || o == 7 || o == 8;
    bool myy = o == 3 || o == 4 || o == 6 || o == 7;
    int tw = mxx ? w / mcu * mcu : w, th = myy ? h / mcu * mcu : h;

    CHECK_EQ(clean(&in, &out, &out_n, &ct, &err, a), 0);
    if (out && decode_jpeg(in.p, in.n, &i1) && decode_jpeg(out, out_n, &i2)) {
        long worst = 0, sum = 0, cnt = 0;
        check_no_metadata(out, out_n);
        CHECK_EQ(i2.w, tr ? th : tw);
        CHECK_EQ(i2.h, tr ? tw : th);
        for (int Y = 0; Y < i2.h && i2.w == (tr ? th : tw); Y++) {
            for (int X = 0; X < i2.w; X++) {
                int x, y;
                src_of(o, X, Y, tw, th, &x, &y);
                /* At a trimmed edge the source's chroma upsampling saw
                 * the dropped neighbours: not a pixel to compare. */
                if ((tw < w && x >= tw - 2) || (th < h && y >= th - 2))
                    continue;
                for (int c = 0; c < 3; c++) {
                    long d =
                        (long)i2.px[((size_t)Y * (size_t)i2.w + (size_t)X) * 3 +
                                    (size_t)c] -
                        (long)i1.px[((size_t)y * (size_t)i1.w + (size_t)x) * 3 +
                                    (size_t)c];
                    if (d < 0)
                        d = -d;
                    if (d > worst && getenv("TRI_DEBUG"))
                        fprintf(stderr, "  o%d %dx%d: (%d,%d)c%d d=%ld\n", o, w,
                                h, X, Y, c, d);
                    worst = d > worst ? d : worst;
                    sum += d;
                    cnt++;
                }
            }
        }
        if (worst > 12 || sum > cnt)
            fprintf(stderr, "  orientation %d: worst %ld, mean %.3f\n", o,
                    worst, cnt ? (double)sum / (double)cnt : 0.0);
        CHECK(worst <= 12); /* a misplaced block would differ by ~60+ */
        CHECK(sum <= cnt);  /* mean difference under one level */
        free(i1.px);
        free(i2.px);
    } else {
        CHECK(!"decode failed");
    }
    free(in.p);
    gu_arena_free(a);
}

static void
test_jpeg_orientation_applied(void)
{
    for (int o = 2; o <= 8; o++) {
        check_turn(o, 64, 48, false);
        check_turn(o, 70, 50, false); /* partial blocks: trimmed */
        check_turn(o, 37, 29, true);
    }
    /* The same read from a big-endian ("MM") EXIF block. */
    exif_be = true;
    check_turn(6, 64, 48, false);
    check_turn(3, 70, 50, false);
    exif_be = false;
}

static void
test_jpeg_refused(void)
{
    struct gu_arena *a = gu_arena_new(0);
    struct jopts o = {.w = 64, .h = 64, .comps = 3, .orientation = 1};
    struct bytes in = make_jpeg(&o), t;
    const void *out;
    size_t out_n;
    const char *ct;
    struct gu_err err;
    unsigned char *big;

    /* Truncated at half, and just before EOI. */
    t.p = in.p;
    t.n = in.n / 2;
    CHECK_EQ(clean(&t, &out, &out_n, &ct, &err, a), GU_EINVAL);
    CHECK_CONTAINS(err.user, "incomplète ou abîmée");
    CHECK(out == NULL && ct == NULL);
    t.n = in.n - 2;
    CHECK_EQ(clean(&t, &out, &out_n, &ct, &err, a), GU_EINVAL);
    CHECK_CONTAINS(err.user, "incomplète");

    /* Garbage after a JPEG header. */
    big = malloc(in.n + 4096);
    memcpy(big, in.p, 200);
    for (size_t i = 200; i < in.n; i++)
        big[i] = (unsigned char)(i * 7919 >> 3);
    t.p = big;
    t.n = in.n;
    CHECK(clean(&t, &out, &out_n, &ct, &err, a) < 0);
    CHECK(err.user[0] != 0);

    /* A polyglot: a valid JPEG with a ZIP (or a page) after EOI. */
    memcpy(big, in.p, in.n);
    memcpy(big + in.n, "PK\003\004<html><script>alert(1)</script>", 36);
    t.n = in.n + 36;
    CHECK_EQ(clean(&t, &out, &out_n, &ct, &err, a), GU_EINVAL);
    CHECK_CONTAINS(err.user, "autres données après l’image");
    /* Padding after EOI is fine. */
    memset(big + in.n, 0, 64);
    t.n = in.n + 64;
    CHECK_EQ(clean(&t, &out, &out_n, &ct, &err, a), 0);
    /* A second JPEG after the first (multi-picture file): first kept. */
    memcpy(big + in.n, in.p, in.n);
    t.n = in.n * 2;
    CHECK_EQ(clean(&t, &out, &out_n, &ct, &err, a), 0);

    /* A header declaring 30000 x 30000: refused before any decoding. */
    memcpy(big, in.p, in.n);
    for (size_t i = 2; i + 9 < in.n; i++) {
        if (big[i] == 0xFF && big[i + 1] == 0xC0) {
            big[i + 5] = 30000 >> 8;
            big[i + 6] = 30000 & 0xff;
            big[i + 7] = 30000 >> 8;
            big[i + 8] = 30000 & 0xff;
            break;
        }
    }
    t.n = in.n;
    CHECK_EQ(clean(&t, &out, &out_n, &ct, &err, a), GU_ETOOBIG);
    CHECK_CONTAINS(err.user, "trop grande");
    free(big);
    free(in.p);

    /* A legal progressive file with 190 scans: a CPU bomb, refused. */
    o.many_scans = 1;
    in = make_jpeg(&o);
    CHECK_EQ(clean(&in, &out, &out_n, &ct, &err, a), GU_EINVAL);
    free(in.p);
    gu_arena_free(a);
}

static void
test_not_images(void)
{
    struct gu_arena *a = gu_arena_new(0);
    const void *out;
    size_t out_n;
    const char *ct;
    struct gu_err err;
    struct bytes t;
    static unsigned char text[] = "%PDF-1.4 pas une image";
    static unsigned char gif[] = "GIF89a\001\000\001\000";
    static unsigned char html[] = "<svg onload=alert(1)>";

    t.p = text;
    t.n = sizeof(text) - 1;
    CHECK_EQ(clean(&t, &out, &out_n, &ct, &err, a), GU_EINVAL);
    CHECK_CONTAINS(err.user, "n’est pas une photo au format JPEG ou PNG");
    t.p = gif;
    t.n = sizeof(gif) - 1;
    CHECK_EQ(clean(&t, &out, &out_n, &ct, &err, a), GU_EINVAL);
    t.p = html;
    t.n = sizeof(html) - 1;
    CHECK_EQ(clean(&t, &out, &out_n, &ct, &err, a), GU_EINVAL);
    t.n = 0;
    CHECK_EQ(clean(&t, &out, &out_n, &ct, &err, a), GU_EINVAL);
    CHECK_CONTAINS(err.user, "vide");
    t.n = TRI_ATTACH_BYTES + 1;
    CHECK_EQ(clean(&t, &out, &out_n, &ct, &err, a), GU_ETOOBIG);
    CHECK_CONTAINS(err.user, "8 Mo");
    /* Only a signature. */
    static unsigned char sig[] = {0xFF, 0xD8, 0xFF, 0xE0};
    t.p = sig;
    t.n = sizeof(sig);
    CHECK_EQ(clean(&t, &out, &out_n, &ct, &err, a), GU_EINVAL);
    gu_arena_free(a);
}

/* ------------------------------------------------------------------ */
/* PNG                                                                 */
/* ------------------------------------------------------------------ */

struct pbuf {
    unsigned char *p;
    size_t n, cap;
};

static void
pw(png_structp png, png_bytep d, png_size_t n)
{
    struct pbuf *b = png_get_io_ptr(png);

    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2;
        b->p = realloc(b->p, b->cap);
    }
    memcpy(b->p + b->n, d, n);
    b->n += n;
}

static void
pf(png_structp png)
{
    (void)png;
}

struct popts {
    int w, h, depth, ctype;
    bool interlace, meta, trns;
};

static int
channels(int ctype)
{
    switch (ctype) {
    case PNG_COLOR_TYPE_RGB:
        return 3;
    case PNG_COLOR_TYPE_RGBA:
        return 4;
    case PNG_COLOR_TYPE_GA:
        return 2;
    default:
        return 1;
    }
}

static struct bytes
make_png(const struct popts *o)
{
    png_structp png =
        png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    struct pbuf b = {0};
    size_t rb =
        (size_t)o->w * (size_t)channels(o->ctype) * (size_t)o->depth / 8 + 1;
    unsigned char *row = calloc(1, rb);
    int passes;
    struct bytes out;

    png_set_write_fn(png, &b, pw, pf);
    png_set_IHDR(png, info, (png_uint_32)o->w, (png_uint_32)o->h, o->depth,
                 o->ctype,
                 o->interlace ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    if (o->ctype == PNG_COLOR_TYPE_PALETTE) {
        png_color pal[16];
        for (int i = 0; i < 16; i++) {
            pal[i].red = (png_byte)(i * 16);
            pal[i].green = (png_byte)(255 - i * 16);
            pal[i].blue = (png_byte)(i * 7);
        }
        png_set_PLTE(png, info, pal, 16);
        if (o->trns) {
            png_byte alpha[4] = {0, 64, 128, 200};
            png_set_tRNS(png, info, alpha, 4, NULL);
        }
    }
    if (o->meta) {
        png_text txt[3];
        unsigned char ex[256];
        size_t exn = make_exif(ex, 1);
        png_time when = {2026, 11, 30, 9, 15, 0};
        memset(txt, 0, sizeof(txt));
        txt[0].compression = PNG_TEXT_COMPRESSION_NONE;
        txt[0].key = "Author";
        txt[0].text = "Jeanne Martin, 12 rue des Lilas";
        txt[1].compression = PNG_TEXT_COMPRESSION_zTXt;
        txt[1].key = "Comment";
        txt[1].text = "Jeanne Martin a pris cette photo";
        txt[2].compression = PNG_ITXT_COMPRESSION_NONE;
        txt[2].key = "XML:com.adobe.xmp";
        txt[2].text = "<x:xmpmeta xmlns:x='adobe:ns:meta/' "
                      "a='http://ns.adobe.com/xap/1.0/'/>";
        png_set_text(png, info, txt, 3);
        /* eXIf holds the TIFF part only (no "Exif\0\0"). */
        png_set_eXIf_1(png, info, (png_uint_32)(exn - 6), ex + 6);
        png_set_tIME(png, info, &when);
        png_set_gAMA(png, info, 0.45455);
    }
    png_write_info(png, info);
    passes = o->interlace ? png_set_interlace_handling(png) : 1;
    for (int p = 0; p < passes; p++) {
        for (int y = 0; y < o->h; y++) {
            memset(row, 0, rb);
            for (size_t i = 0; i + 1 < rb; i++)
                row[i] = o->ctype == PNG_COLOR_TYPE_PALETTE
                             ? (unsigned char)(((i + (size_t)y) % 16) *
                                               (o->depth == 4 ? 17 : 1))
                             : pix((int)i, y, 0);
            png_write_row(png, row);
        }
    }
    png_write_end(png, info);
    png_destroy_write_struct(&png, &info);
    free(row);
    out.p = b.p;
    out.n = b.n;
    return out;
}

static void
quiet(png_structp png, png_const_charp msg)
{
    (void)png;
    (void)msg;
}

struct prd {
    const unsigned char *p;
    size_t n, off;
};

static void
pr(png_structp png, png_bytep d, png_size_t n)
{
    struct prd *r = png_get_io_ptr(png);

    if (n > r->n - r->off)
        png_error(png, "short");
    memcpy(d, r->p + r->off, n);
    r->off += n;
}

/* Raw rows (no transformation) of a PNG, and its header and tRNS. */
struct pimage {
    png_uint_32 w, h;
    int depth, ctype, ntrns;
    unsigned char *rows; /* malloc, h * rowbytes */
    size_t rowbytes;
};

static bool
decode_png(const void *p, size_t n, struct pimage *im)
{
    png_structp png =
        png_create_read_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, quiet);
    png_infop info = png_create_info_struct(png);
    struct prd r = {p, n, 0};
    png_bytepp rows;

    memset(im, 0, sizeof(*im));
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_read_struct(&png, &info, NULL);
        return false;
    }
    png_set_read_fn(png, &r, pr);
    png_read_png(png, info, PNG_TRANSFORM_IDENTITY, NULL);
    png_get_IHDR(png, info, &im->w, &im->h, &im->depth, &im->ctype, NULL, NULL,
                 NULL);
    if (png_get_valid(png, info, PNG_INFO_tRNS)) {
        png_bytep t;
        png_color_16p c;
        png_get_tRNS(png, info, &t, &im->ntrns, &c);
        if (im->ntrns == 0)
            im->ntrns = 1;
    }
    im->rowbytes = png_get_rowbytes(png, info);
    im->rows = malloc(im->rowbytes * im->h);
    rows = png_get_rows(png, info);
    for (png_uint_32 y = 0; y < im->h; y++)
        memcpy(im->rows + y * im->rowbytes, rows[y], im->rowbytes);
    png_destroy_read_struct(&png, &info, NULL);
    return true;
}

static void
check_png_same(const struct popts *o)
{
    struct gu_arena *a = gu_arena_new(0);
    struct bytes in = make_png(o);
    const void *out;
    size_t out_n;
    const char *ct;
    struct gu_err err;
    struct pimage i1, i2;

    if (o->meta) {
        CHECK(has_bytes(in.p, in.n, "tEXt", 4));
        CHECK(has_bytes(in.p, in.n, "eXIf", 4));
    }
    CHECK_EQ(clean(&in, &out, &out_n, &ct, &err, a), 0);
    CHECK_STR(ct, "image/png");
    if (out) {
        check_no_metadata(out, out_n);
        CHECK(!has_bytes(out, out_n, "tEXt", 4));
        CHECK(!has_bytes(out, out_n, "zTXt", 4));
        CHECK(!has_bytes(out, out_n, "iTXt", 4));
        CHECK(!has_bytes(out, out_n, "eXIf", 4));
        CHECK(!has_bytes(out, out_n, "tIME", 4));
        CHECK(!has_bytes(out, out_n, "gAMA", 4));
        CHECK(decode_png(in.p, in.n, &i1));
        CHECK(decode_png(out, out_n, &i2));
        CHECK_EQ(i1.w, i2.w);
        CHECK_EQ(i1.h, i2.h);
        CHECK_EQ(i1.depth, i2.depth);
        CHECK_EQ(i1.ctype, i2.ctype);
        CHECK_EQ(i1.ntrns, i2.ntrns);
        CHECK_EQ(i1.rowbytes, i2.rowbytes);
        if (i1.rows && i2.rows && i1.rowbytes == i2.rowbytes && i1.h == i2.h)
            CHECK(memcmp(i1.rows, i2.rows, i1.rowbytes * i1.h) == 0);
        free(i1.rows);
        free(i2.rows);
    }
    free(in.p);
    gu_arena_free(a);
}

static void
test_png_text_exif_removed(void)
{
    struct popts rgba = {.w = 50,
                         .h = 30,
                         .depth = 8,
                         .ctype = PNG_COLOR_TYPE_RGBA,
                         .meta = true};
    struct popts pal = {.w = 31,
                        .h = 17,
                        .depth = 4,
                        .ctype = PNG_COLOR_TYPE_PALETTE,
                        .meta = true,
                        .trns = true};
    struct popts grey16 = {.w = 20,
                           .h = 9,
                           .depth = 16,
                           .ctype = PNG_COLOR_TYPE_GRAY,
                           .meta = true};
    struct popts inter = {.w = 45,
                          .h = 33,
                          .depth = 8,
                          .ctype = PNG_COLOR_TYPE_RGB,
                          .interlace = true,
                          .meta = true};

    check_png_same(&rgba);
    check_png_same(&pal);
    check_png_same(&grey16);
    check_png_same(&inter);
}

static uint32_t
be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
           p[3];
}

static void
test_png_refused(void)
{
    struct gu_arena *a = gu_arena_new(0);
    struct popts o = {
        .w = 60, .h = 40, .depth = 8, .ctype = PNG_COLOR_TYPE_RGB};
    struct bytes in = make_png(&o), t;
    const void *out;
    size_t out_n;
    const char *ct;
    struct gu_err err;
    unsigned char *big = malloc(in.n + 4096);
    uLong crc;

    t.p = in.p;
    t.n = in.n / 2;
    CHECK_EQ(clean(&t, &out, &out_n, &ct, &err, a), GU_EINVAL);
    CHECK_CONTAINS(err.user, "incomplète ou abîmée");
    t.n = in.n - 12; /* no IEND */
    CHECK_EQ(clean(&t, &out, &out_n, &ct, &err, a), GU_EINVAL);

    /* A flipped byte in IDAT: CRC error. */
    memcpy(big, in.p, in.n);
    big[in.n / 2] ^= 0x55;
    t.p = big;
    t.n = in.n;
    CHECK_EQ(clean(&t, &out, &out_n, &ct, &err, a), GU_EINVAL);

    /* A polyglot: a page after IEND. */
    memcpy(big, in.p, in.n);
    memcpy(big + in.n, "<html><script>alert(1)</script>", 31);
    t.n = in.n + 31;
    CHECK_EQ(clean(&t, &out, &out_n, &ct, &err, a), GU_EINVAL);
    CHECK_CONTAINS(err.user, "autres données après l’image");

    /* IHDR declaring 11000 x 11000 (CRC fixed): a decompression bomb. */
    memcpy(big, in.p, in.n);
    CHECK(be32(big + 8) == 13 && memcmp(big + 12, "IHDR", 4) == 0);
    big[16] = 0;
    big[17] = 0;
    big[18] = 11000 >> 8;
    big[19] = 11000 & 0xff;
    memcpy(big + 20, big + 16, 4);
    crc = crc32(0, big + 12, 17);
    big[29] = (unsigned char)(crc >> 24);
    big[30] = (unsigned char)(crc >> 16);
    big[31] = (unsigned char)(crc >> 8);
    big[32] = (unsigned char)crc;
    t.n = in.n;
    CHECK_EQ(clean(&t, &out, &out_n, &ct, &err, a), GU_ETOOBIG);
    CHECK_CONTAINS(err.user, "trop grande");
    /* 13000 wide: over the side bound. */
    big[18] = 13000 >> 8;
    big[19] = 13000 & 0xff;
    big[22] = 0;
    big[23] = 10;
    crc = crc32(0, big + 12, 17);
    big[29] = (unsigned char)(crc >> 24);
    big[30] = (unsigned char)(crc >> 16);
    big[31] = (unsigned char)(crc >> 8);
    big[32] = (unsigned char)crc;
    CHECK_EQ(clean(&t, &out, &out_n, &ct, &err, a), GU_ETOOBIG);
    free(big);
    free(in.p);
    gu_arena_free(a);
}

/* The arena owns the result; many photos in a row leak nothing (ASan). */
static void
test_many_in_one_arena(void)
{
    struct gu_arena *a = gu_arena_new(0);
    struct jopts o = {
        .w = 64, .h = 64, .comps = 3, .orientation = 6, .xmp = true};
    struct bytes in = make_jpeg(&o);
    const void *out;
    size_t out_n;
    const char *ct;
    struct gu_err err;

    for (int i = 0; i < 20; i++)
        CHECK_EQ(clean(&in, &out, &out_n, &ct, &err, a), 0);
    free(in.p);
    gu_arena_free(a);
}

TESTS(T(test_jpeg_exif_gps_xmp_comment_removed),
      T(test_jpeg_odd_size_progressive_grey), T(test_jpeg_orientation_applied),
      T(test_jpeg_refused), T(test_not_images), T(test_png_text_exif_removed),
      T(test_png_refused), T(test_many_in_one_arena))
