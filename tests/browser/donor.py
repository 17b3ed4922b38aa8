"""What a donor does in the browser, for the journeys that need it as a step."""


def pledge_from_the_form(page, need_url: str, *, quantity: int, name: str, kind: str, email: str):
    """Pledge as a donor does, on the need's pledge form in Indonesian; lands on the private page."""
    page.goto(need_url + "dukung/")
    page.get_by_label("Jumlah").fill(str(quantity))
    page.get_by_label("Nama Anda atau nama organisasi Anda").fill(name)
    page.get_by_label("Anda adalah").select_option(kind)
    page.get_by_label("E-mail").fill(email)
    page.get_by_role("button", name="Berkomitmen").click()
