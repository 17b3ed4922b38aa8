"""The demo's words: names of people, firms, institutions and places, and the texts of needs, pledges
and hand-overs, all in Indonesian as a Jakarta portal would hold them. Data only: ksbb.demo.planning
draws from these lists (their order is part of what a seed produces, so append rather than reorder).

Every person, firm and text is invented except Human Initiative and the kampung and cooperatives the
article names (docs/domain.md).
"""

# The priority kampung the article names, with the kelurahan code and the cooperative formed there. A
# kampung whose kelurahan is not known is put in a Jakarta Utara kelurahan; every kampung point is
# approximate.
KAMPUNG = [
    ("Akuarium", "31.72.01.1001", "Koperasi Konsumen Akuarium Bangkit Mandiri"),
    ("Kumir", "31.73.03.1008", "Koperasi Konsumen Kumir Pinangsia Sejahtera"),
    ("Lodan", "31.72.05.1003", "Koperasi Konsumen Komunitas Anak Kali Ciliwung"),
    ("Tongkol", "31.72.05.1003", "Koperasi Konsumen Komunitas Anak Kali Ciliwung"),
    ("Kerapu", "31.72.05.1003", "Koperasi Konsumen Komunitas Anak Kali Ciliwung"),
    ("Marlina", "31.72.01.1001", "Koperasi Konsumen Marlina Maju Bersama"),
    ("Elektro", "31.72.01.1001", "Koperasi Konsumen Elektrojaya Makmur"),
    ("Pompa", "31.72.01.1001", "Koperasi Konsumen Gedung Pompa Mandiri Sejahtera"),
    ("Rawa Barat", "31.72.01.1004", "Koperasi Konsumen Kampung Rawamakmur"),  # kelurahan unknown
    ("Rawa Timur", "31.72.01.1004", "Koperasi Konsumen Kampung Rawamakmur"),  # kelurahan unknown
    ("Muka", "31.72.05.1003", "Koperasi Konsumen Kampung Muka Mandiri"),
    ("Lengkong", "31.72.04.1004", "Koperasi Konsumen Langkong Bersinar"),  # kelurahan unknown
]
# Who facilitates an UMKM hand-over: the kota's Suku Dinas PPKUKM where the demo has one, else the Dinas.
SUKU_DINAS = {
    "31.72": "Suku Dinas PPKUKM Jakarta Utara",
    "31.75": "Suku Dinas PPKUKM Jakarta Timur",
}
DINAS_PPKUKM = "Dinas PPKUKM Provinsi DKI Jakarta"

FIRST_NAMES = (  # noqa: SIM905 (word lists read better as text)
    "Budi Siti Agus Dewi Rina Andi Wahyu Sri Hendra Yuni Eko Fitri Rudi Lestari Bambang "
    "Nurul Dian Joko Ratna Arif Maya Taufik Indah Fajar Putri Hadi Ayu Irfan Wulan Yusuf "
    "Ningsih Reza Intan Dedi Lina Ahmad Slamet Kartini Bayu Mega Rizky Sari Teguh Nanda "
    "Hasan Umi"
).split()
LAST_NAMES = (  # noqa: SIM905 (word lists read better as text)
    "Santoso Wijaya Saputra Hidayat Kurniawan Pratama Setiawan Nugroho Rahmawati Siregar "
    "Simanjuntak Nasution Hasibuan Gunawan Purnomo Susanto Wibowo Handayani Permana "
    "Sembiring Ginting Tanjung Lubis Harahap Utami Kusuma Halim Salim Suryadi Maulana "
    "Firmansyah Ramadhan Sitompul Manurung Wahyudi Hakim Rosyid Fauzi"
).split()
COMPANY_WORDS = (  # noqa: SIM905 (word lists read better as text)
    "Sinar Cahaya Mitra Karya Bumi Citra Prima Graha Nusa Mega Surya Tirta Arta Bina Duta "
    "Harapan Lintas Puri Samudra Pelita"
).split()
COMPANY_QUALITIES = (  # noqa: SIM905 (word lists read better as text)
    "Abadi Makmur Sejahtera Mandiri Lestari Utama Perkasa Sentosa Gemilang Persada Semesta "
    "Berkah Sukses"
).split()
COMPANY_SECTORS = (
    "Logistik",
    "Pangan",
    "Properti",
    "Digital",
    "Ritel",
    "Farma",
    "Konstruksi",
    "Energi",
    "Niaga",
    "Tekstil",
    "Kemasindo",
    "",
    "",
    "",
)
COMMUNITY_PREFIXES = ("Komunitas", "Relawan", "Gerakan", "Paguyuban", "Forum", "Sahabat")
COMMUNITY_WORDS = ("Berbagi", "Peduli", "Bersatu", "Kebaikan", "Gotong Royong", "Tetangga")
STATE_OWNED = [
    "PT Energi Raya Nusantara (Persero)",
    "PT Angkutan Kota Jaya (Persero)",
    "PT Bank Tabungan Warga (Persero)",
    "PT Pelabuhan Teluk Jakarta (Persero)",
    "PT Pupuk Tani Makmur (Persero)",
    "PT Semen Bumi Persada (Persero)",
    "PT Asuransi Sejahtera Bersama (Persero)",
    "PT Pos Logistik Nusa (Persero)",
    "PT Air Minum Jaya Tirta (Perseroda)",
    "PT Pasar Rakyat Jaya (Perseroda)",
    "PT Properti Kota Sentosa (Perseroda)",
    "PT Transportasi Terpadu Jakarta (Perseroda)",
    "PT Pangan Sentosa Jaya (Perseroda)",
    "PT Gas Kota Utama (Perseroda)",
    "PT Kawasan Industri Timur (Perseroda)",
    "PT Pembangunan Sarana Jaya (Perseroda)",
    "PT Listrik Daerah Jaya (Perseroda)",
    "PT Bank Daerah Sejahtera (Perseroda)",
]
# Human Initiative is the one the article names; the other eight are invented.
HUMANITARIAN = [
    "Human Initiative",
    "Yayasan Peduli Sesama Nusantara",
    "Lembaga Amal Cahaya Umat",
    "Yayasan Tangan Terbuka",
    "Rumah Kebaikan Bersama",
    "Lembaga Kemanusiaan Jembatan Harapan",
    "Yayasan Lentera Kasih",
    "Dompet Solidaritas Warga",
    "Yayasan Pangan untuk Semua",
]
FINTECH = ["PT Dana Kita Digital", "PT Modal Rakyat Teknologi"]
STREETS = (  # noqa: SIM905 (word lists read better as text)
    "Melati Kenanga Flamboyan Mawar Cempaka Anggrek Dahlia Kamboja Teratai Seroja Sawo "
    "Mangga Rambutan Duku Belimbing Jambu Masjid Pasar Swadaya Taman Delima Kemuning Nangka "
    "Salak"
).split()

# Contact persons' notes: the cooperative's board member, and a second contact by site kind
# (Site.Kind's values; {rt}: the RT's number).
COOPERATIVE_CONTACT_NOTE = "Pengurus {cooperative}"
SECOND_CONTACT_NOTES = {
    "rw": "Ketua RT {rt:02d}",
    "loksem": "Bendahara paguyuban pedagang",
    "school": "Wakil kepala sekolah",
}

# A need's title by aid type ("Gawai belajar (guru)": devices for teachers rather than pupils). In a
# title, {label} is the site ("RW 03 Gambir", "SDN Gambir 02"), {qty} the quantity and {who} who is
# fed; where there are several titles, one is drawn per need.
NEED_TITLES = {
    "Paket sembako": (
        "Paket sembako untuk {qty} KK terdampak di {label}",
        "Bantuan sembako warga {label}",
    ),
    "Makanan siap saji": ("Makanan siap saji untuk {who} di {label}",),
    "Paket Lebaran": ("Paket Lebaran 1441 H untuk warga {label}",),
    "Paket THR": ("Paket THR untuk pekerja harian {label}",),
    "Pelatihan daring": ("Pelatihan pemasaran daring bagi UMKM {label}",),
    "Pelatihan luring": ("Pelatihan pengemasan dan label produk untuk UMKM {label}",),
    "Sarana dan prasarana usaha": (
        "Gerobak dan peralatan dagang untuk pedagang {label}",
        "Etalase dan perlengkapan usaha bagi pelaku UMKM {label}",
    ),
    "Permodalan dengan pendampingan": (
        "Modal usaha dengan pendampingan untuk {qty} pelaku usaha {label}",
    ),
    "Gawai belajar (guru)": ("Gawai untuk mengajar daring bagi guru {label}",),
    "Gawai belajar": ("Gawai untuk belajar daring siswa {label}",),
    "Paket data internet": ("Paket data internet PJJ untuk siswa {label}",),
    "Perlengkapan belajar": ("Perlengkapan belajar untuk siswa {label}",),
    "Sanitasi": ("Pembangunan MCK komunal di {label}",),
    "Perbaikan drainase": ("Perbaikan saluran drainase {label}",),
    "Perbaikan rumah": ("Perbaikan rumah tidak layak huni di {label}",),
}
# Who a ready-meal need feeds: {who} in its title.
MEALS_FOR_LOKSEM = "pedagang dan warga sekitar"
MEALS_FOR_RW = "warga isoman"
NEED_DESCRIPTIONS = {
    "Paket sembako": "Beras 5 kg, minyak goreng 1 L, gula 1 kg, mi instan dan sarden.",
    "Makanan siap saji": "Nasi kotak bergizi, dibagikan siang hari selama masa PSBB.",
    "Paket Lebaran": "Disalurkan sebelum Idulfitri 1441 H.",
    "Paket THR": "Disalurkan sebelum Idulfitri 1441 H.",
    "Pelatihan daring": "Empat sesi: foto produk, katalog daring, lokapasar dan pembukuan.",
    "Pelatihan luring": "Pelatihan tatap muka dengan protokol kesehatan, kelompok kecil.",
    "Sarana dan prasarana usaha": "Sarana usaha agar pedagang dapat berjualan kembali dengan aman.",
    "Permodalan dengan pendampingan": "Modal kerja bergulir disertai pendampingan enam bulan.",
    "Gawai belajar (guru)": "Laptop atau tablet untuk pembelajaran jarak jauh.",
    "Gawai belajar": "Ponsel pintar atau tablet layar minimal 6 inci.",
    "Paket data internet": "Kuota 30 GB per bulan selama satu semester.",
    "Perlengkapan belajar": "Buku tulis, alat tulis dan tas sekolah.",
    "Sanitasi": "MCK komunal dengan septic tank biofilter.",
    "Perbaikan drainase": "Normalisasi dan penutupan saluran sepanjang kurang lebih 300 m.",
    "Perbaikan rumah": "Perbaikan atap, lantai dan dinding rumah warga.",
}

# Who a need is for ("criteria"), by category and by whether the site is a kampung.
PANGAN_CRITERIA = (
    "Rumah tangga rentan terdampak COVID-19 dengan kriteria penerima bansos masa PSBB; "
    "data diverifikasi Ketua RW dan kelurahan."
)
UMKM_CRITERIA_KAMPUNG = "Anggota {cooperative} yang terdaftar di Jakpreneur."
UMKM_CRITERIA = "Pelaku usaha mikro terdaftar di Jakpreneur, berdomisili di Kelurahan {kelurahan}."
PENDIDIKAN_CRITERIA = (
    "Peserta didik dari keluarga kurang mampu yang terkendala pembelajaran jarak jauh; "
    "data dari sekolah."
)
TEACHER_CRITERIA = "Guru honorer yang belum memiliki gawai untuk mengajar daring."
PERMUKIMAN_CRITERIA_KAMPUNG = (
    "Kampung prioritas penataan kampung (Community Action Plan); pekerjaan bersama koperasi warga."
)
PERMUKIMAN_CRITERIA = "RW kumuh dalam daftar penataan kampung Pemprov DKI Jakarta."

# A donor's message with their pledge (often none), and the reasons a pledge ended without delivery.
PLEDGE_MESSAGES = (
    "Semoga bermanfaat bagi warga.",
    "Kami siap mengantar langsung ke lokasi.",
    "Donasi dari karyawan kami untuk warga Jakarta.",
    "Mohon kabari jadwal serah terima.",
    "",
    "",
    "",
)
CANCEL_REASONS = (
    "Anggaran CSR dialihkan ke program lain.",
    "Donatur berhalangan mengirim bantuan.",
    "Stok barang tidak tersedia.",
)
REJECT_REASONS = (
    "Jenis bantuan tidak sesuai kebutuhan warga.",
    "Kebutuhan sudah terpenuhi dari program bansos pemerintah.",
    "Bantuan tidak memenuhi standar kemasan pangan.",
)
EXPIRE_REASON = "Tidak ada konfirmasi dari donatur hingga batas waktu."
# What staff record when they schedule a hand-over and when they record one ({opd}: who facilitated).
SCHEDULE_REASON = "Jadwal serah terima disepakati dengan narahubung."
DELIVERY_NOTE = "Serah terima di lokasi, difasilitasi {opd}."
# Reference values per unit (Rupiah) behind the public estimates, by (category slug, aid type).
# Invented for the demo, as its source says; two aid types are left without one, so the pages show
# "no estimate" at work.
UNIT_VALUE_SOURCE = "Perkiraan untuk data demo, bukan harga resmi"
UNIT_VALUES = {
    ("pangan", "Paket sembako"): 250_000,
    ("pangan", "Makanan siap saji"): 15_000,
    ("pangan", "Paket Lebaran"): 300_000,
    ("pangan", "Paket THR"): 500_000,
    ("umkm", "Pelatihan daring"): 150_000,
    ("umkm", "Pelatihan luring"): 500_000,
    ("umkm", "Sarana dan prasarana usaha"): 2_500_000,
    ("pendidikan", "Gawai belajar"): 2_000_000,
    ("pendidikan", "Paket data internet"): 100_000,
    ("pendidikan", "Perlengkapan belajar"): 200_000,
    ("permukiman", "Sanitasi"): 5_000_000,
    ("permukiman", "Perbaikan rumah"): 15_000_000,
}
# Above these (units, estimated Rupiah), an organisation's pledge is scheduled once it is vetted.
VETTING_THRESHOLDS = {
    "pangan": (None, 25_000_000),
    "umkm": (None, 20_000_000),
    "pendidikan": (None, 20_000_000),
    "permukiman": (None, 50_000_000),
}
VETTING_REFUSAL = "Nomor NIB tidak cocok dengan nama organisasi di OSS; mohon periksa kembali."
