"""The demo licensing data `seed_demo` loads: one product and a few fictional resellers.

Every address is under the reserved `.example` domain and every phone number is a fictional
one; loading again changes nothing.
"""

from licensing.models import Product, Reseller

DEMO_PRODUCT = {
    "code": "camera-station-pro",
    "name": "Camera Station Pro",
    "takes_subscription": True,
    "takes_hardware_extension": True,
    "takes_upgrade": True,
}

# (name, countries served, website, e-mail, phone)
DEMO_RESELLERS = [
    (
        "Sakura Vision Systems K.K.",
        ["JP"],
        "https://sakura-vision.example/",
        "sales@sakura-vision.example",
        "+81 3-5555-0100",
    ),
    (
        "Kansai Security Supply",
        ["JP"],
        "https://kansai-security.example/",
        "licenses@kansai-security.example",
        "+81 6-5555-0142",
    ),
    (
        "Northwind Surveillance Ltd",
        ["GB", "IE"],
        "https://northwind-surveillance.example/",
        "hello@northwind-surveillance.example",
        "+44 20 7946 0958",
    ),
    (
        "Lakeside Camera Distribution",
        ["US", "CA"],
        "https://lakeside-camera.example/",
        "orders@lakeside-camera.example",
        "+1 555 0134",
    ),
    (
        "Nordlys Sikkerhet AS",
        ["NO", "SE", "DK", "FI"],
        "https://nordlys-sikkerhet.example/",
        "salg@nordlys-sikkerhet.example",
        "+47 5555 0199",
    ),
]


def seed_licensing() -> list[Reseller]:
    """Create the demo product and resellers unless they exist; return the resellers."""
    product, _created = Product.objects.get_or_create(
        code=DEMO_PRODUCT["code"], defaults=DEMO_PRODUCT
    )
    resellers = []
    for name, countries, website, email, phone in DEMO_RESELLERS:
        reseller, created = Reseller.objects.get_or_create(
            name=name,
            defaults={"countries": countries, "website": website, "email": email, "phone": phone},
        )
        if created:
            reseller.products.add(product)
        resellers.append(reseller)
    return resellers
