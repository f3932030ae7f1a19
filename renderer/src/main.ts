import { createApp } from 'vue';
import { createPinia } from 'pinia';
import App from './App.vue';
import { installWebSocketApiIfNeeded } from './bridge/ws-client';
import './styles.css';

installWebSocketApiIfNeeded();
createApp(App).use(createPinia()).mount('#app');
