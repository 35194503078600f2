def test_index_lists_open_petitions(client):
    from tests.factories import PetitionFactory

    PetitionFactory(title="Open one")
    PetitionFactory(title="Draft one", state="draft")
    page = client.get("/").get_data(as_text=True)
    assert "Open one" in page
    assert "Draft one" not in page
