app_name = "virtualmeeting_zoom"

urlpatterns = []
